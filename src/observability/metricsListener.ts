import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.ts';

/**
 * `/metrics` on a listener of its own (KEYBOUND_METRICS_PORT, loopback by default), so the main
 * listener, which faces the public, does not hand out the server's counters. Plain node:http: one
 * read-only route needs none of the main app's machinery.
 */
export async function startMetricsListener(metrics: Metrics, options: { port: number; host: string }): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end('Only /metrics is served here.\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).end(request.method === 'HEAD' ? undefined : text),
      () => response.writeHead(500).end(),
    );
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
