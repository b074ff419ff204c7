import type { FastifyInstance } from 'fastify';
import { configWarnings, type Config } from './config/load.ts';
import { buildApp } from './http/app.ts';
import { createDeps, openStoreWhenReachable } from './runtime.ts';
import { anchorAuditTrail } from './services/auditTrail.ts';
import { ensureFirstAdmin } from './services/bootstrap.ts';
import type { Deps } from './services/deps.ts';
import type { Db } from './store/db.ts';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly deps: Deps;
  readonly db: Db;
  readonly url: string;
  /** Stops accepting, lets requests in flight finish (up to the grace period), closes the database. */
  close(): Promise<void>;
}

const HOUSEKEEPING_INTERVAL_MS = 60_000;
/** How long a session row outlives its end (the audit trail keeps the sign-in for good). */
const SESSION_RETENTION_MS = 30 * 24 * 3600_000;

/** Starts Keybound: database, migrations, first administrator, HTTP. */
export async function startServer(config: Config, options: { log?: (line: string) => void; signal?: AbortSignal } = {}): Promise<RunningServer> {
  const say = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { db, store, applied } = await openStoreWhenReachable(
    config,
    // The logger comes with the HTTP app, which needs the database: until then, a line in the same JSON shape.
    ({ error, attempt, retryInMs }) =>
      ['warn', 'info', 'debug', 'trace'].includes(config.logLevel) &&
      process.stdout.write(`${JSON.stringify({ level: 40, time: Date.now(), database: error.database, reason: (error.cause as { code?: string }).code ?? 'unreachable', attempt, retryInMs, msg: 'database not reachable yet, waiting' })}\n`),
    options.signal,
  );
  const deps = await createDeps({ config, store });
  const app = await buildApp(deps, { logLevel: config.logLevel });
  for (const warning of configWarnings(config)) app.log.warn({ setting: warning }, 'insecure setting');
  if (applied.length > 0) app.log.info({ applied, database: db.description }, 'database migrated');

  // A trail from before anchoring gets its anchor now (core/audit/anchor.ts).
  await anchorAuditTrail(deps);
  const firstAdmin = await ensureFirstAdmin(deps);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  app.log.info({ port, database: db.description, origins: config.origins }, 'keybound listening');
  if (firstAdmin) {
    say('');
    say('  Keybound has no accounts yet. Enrol the first administrator with this link');
    say(`  (single use, valid until ${new Date(firstAdmin.expiresAt).toISOString()}):`);
    say('');
    say(`    ${firstAdmin.url}`);
    say('');
  }

  const housekeeping = setInterval(() => {
    const now = deps.clock();
    Promise.all([
      store.ceremonies.purgeExpired(now),
      store.rateLimits.purge(now - 24 * 3600_000),
      // Code attempts past their lifetime; failure delays untouched for a day start again from zero.
      store.codeAttempts.purgeExpired(now),
      store.codeThrottles.purge(now - 24 * 3600_000),
      // Ended sessions are kept a while for the account page and investigations, then dropped.
      store.sessions.purgeEnded(now - SESSION_RETENTION_MS),
    ]).catch((error: unknown) =>
      app.log.warn({ err: { message: (error as Error).message } }, 'housekeeping failed'),
    );
  }, HOUSEKEEPING_INTERVAL_MS);
  housekeeping.unref();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clearInterval(housekeeping);
      const grace = setTimeout(() => app.server.closeAllConnections(), config.shutdownGraceMs);
      grace.unref();
      await app.close();
      clearTimeout(grace);
      await db.close();
    })();
    return closing;
  };
  return { app, deps, db, url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`, close };
}
