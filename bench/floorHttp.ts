/**
 * The machine's HTTP floor: a bare node:http server (no framework) that reads the request body and
 * answers a small JSON document with a cookie, as a sign-in step does. `npm run bench` measures its
 * CPU per request with the same load generator, so Keybound's HTTP cost can be set against it.
 */
import { createServer } from 'node:http';

const port = Number(process.env.BENCH_FLOOR_PORT);
const body = JSON.stringify({ account: { id: '00000000-0000-4000-8000-000000000000', username: 'bench', role: 'member' }, acr: 'urn:keybound:aal2:phr', amr: ['pop', 'hwk', 'mfa'], aal: 2 });
createServer({ keepAliveTimeout: 5_000 }, (request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method === 'POST') JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'set-cookie': 'floor=1; Path=/; HttpOnly; SameSite=Lax', 'cache-control': 'no-store' });
    response.end(body);
  });
}).listen(port, 'localhost');
process.on('SIGTERM', () => process.exit(0));
