/**
 * The Better Auth peer as a process of its own: `node --import tsx bench/peers/better-auth/server.ts`
 * with BENCH_PEER_DB, BENCH_PEER_PORT and BENCH_PEER_ORIGIN. Mounted with `toNodeHandler` on a plain
 * node:http server (Better Auth's Node integration, without Express in front).
 */
import { createServer } from 'node:http';
import { toNodeHandler } from 'better-auth/node';
import { createPeerAuth } from './auth.ts';

const databasePath = process.env.BENCH_PEER_DB;
const port = Number(process.env.BENCH_PEER_PORT);
const origin = process.env.BENCH_PEER_ORIGIN ?? `http://localhost:${port}`;
if (!databasePath || !port) throw new Error('BENCH_PEER_DB and BENCH_PEER_PORT are required');

const { auth, sqlite } = createPeerAuth({ databasePath, baseURL: origin, rpID: new URL(origin).hostname });
const server = createServer({ keepAliveTimeout: 5_000 }, toNodeHandler(auth));
server.listen(port, 'localhost');
const stop = () => server.close(() => {
  sqlite.close();
  process.exit(0);
});
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
