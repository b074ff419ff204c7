import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { startMetricsListener } from './observability/metricsListener.ts';
import { configWarnings, type Config } from './config/load.ts';
import { buildApp } from './http/app.ts';
import { createDeps, openStoreWhenReachable } from './runtime.ts';
import { anchorAuditTrail } from './services/auditTrail.ts';
import { ensureFirstAdmin, firstAdminLinkLost } from './services/bootstrap.ts';
import type { Deps } from './services/deps.ts';
import { analyseAll } from './services/paths/analyse.ts';
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

/** A port that cannot be listened on (in use, not allowed), with the setting that names it. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

async function listenOrExplain<T>(listen: () => Promise<T>, setting: string, port: number, host: string): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'EADDRINUSE') throw new ListenError(`port ${port} on ${host} is already in use by another program; stop it, or set ${setting} to a free port`, { cause: error });
    if (code === 'EACCES') throw new ListenError(`not allowed to listen on port ${port} on ${host}; set ${setting} to a port above 1023`, { cause: error });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ListenError(`cannot listen on ${host}: no such address on this machine (${setting === 'KEYBOUND_PORT' ? 'KEYBOUND_HOST' : 'KEYBOUND_METRICS_HOST'})`, { cause: error });
    throw error;
  }
}

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
  // Services log security events through the app's logger (built from these deps, so reached lazily).
  const deps = await createDeps({ config, store, log: { warn: (fields, message) => app.log.warn(fields, message) } });
  const app = await buildApp(deps, { logLevel: config.logLevel });
  for (const warning of configWarnings(config)) app.log.warn({ setting: warning }, 'insecure setting');
  if (applied.length > 0) app.log.info({ applied, database: db.description }, 'database migrated');

  // A trail from before anchoring gets its anchor now (core/audit/anchor.ts).
  await anchorAuditTrail(deps);
  // Listen first: a port in use must stop the start before a first-administrator link is made that
  // nobody would see.
  let metricsListener: Server | null = null;
  try {
    await listenOrExplain(() => app.listen({ port: config.port, host: config.host }), 'KEYBOUND_PORT', config.port, config.host);
    if (config.metrics.port !== 0) {
      metricsListener = await listenOrExplain(() => startMetricsListener(deps.metrics, config.metrics), 'KEYBOUND_METRICS_PORT', config.metrics.port, config.metrics.host);
    }
  } catch (error) {
    await app.close();
    await db.close();
    throw error;
  }
  const firstAdmin = await ensureFirstAdmin(deps);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  app.log.info({ port, database: db.description, origins: config.origins }, 'keybound listening');
  // docs/risk.md: which rules run, and whether the place signals can.
  app.log.info({ policy: deps.risk.source, rules: deps.risk.policy.rules.length, geoip: deps.risk.geoipDescription }, 'risk policy loaded');
  if (!deps.risk.placeOf) app.log.warn('KEYBOUND_GEOIP_DB is not set: the place signals (new_country, impossible_travel) are off');
  if (config.pathsReportOnStart) reportWeakAccounts(deps, app.log);
  // The public URL links are made with, for `keybound invite` run where KEYBOUND_ORIGIN is not set.
  if (config.originConfigured || config.port !== 0) await store.settings.put('server.public_url', config.publicUrl);
  if (!firstAdmin && (await firstAdminLinkLost(deps))) {
    say('');
    say('  The administrator has not enrolled, and the enrolment link printed at first start has expired or');
    say('  was used. Make a new link with:  npx keybound invite admin');
    say('');
  }
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
      await Promise.all([app.close(), new Promise((resolve) => (metricsListener ? metricsListener.close(resolve) : resolve(undefined)))]);
      clearTimeout(grace);
      await db.close();
    })();
    return closing;
  };
  return { app, deps, db, url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`, close };
}

/**
 * At start, in the background (it reads every account, a page at a time): a configuration that
 * leaves accounts below their role's effective level (docs/paths.md) is logged with the count per
 * role; `npx keybound analyse` lists them.
 */
function reportWeakAccounts(deps: Deps, log: { warn: (fields: Record<string, unknown>, message: string) => void }): void {
  analyseAll(deps)
    .then((summary) => {
      for (const role of summary.roles) {
        if (role.belowRequired === 0) continue;
        log.warn(
          { event: 'paths.below_required', role: role.role, accounts: role.belowRequired, requiredAcr: role.requiredAcr },
          `${role.belowRequired} ${role.role} account(s) have a way in weaker than KEYBOUND_${role.role.toUpperCase()}_MIN_EFFECTIVE_ACR; run npx keybound analyse`,
        );
      }
    })
    .catch(() => undefined);
}
