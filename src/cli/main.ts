import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config/load.ts';
import { ROLES, type Role } from '../core/model.ts';
import { createDeps, DatabaseUnreachableError, jsonLineLog, openStore, SchemaBehindError } from '../runtime.ts';
import { invite } from '../services/invitations.ts';
import type { Deps } from '../services/deps.ts';
import { DatabaseUrlError, isDatabaseRefusal } from '../store/db.ts';
import { generateDataKey } from '../crypto/dataKeys.ts';
import { registerAuditCommands } from './audit.ts';
import { registerAccountCommands } from './accounts.ts';
import { registerRecoveryCommands } from './recoveries.ts';
import { registerOidcCommands } from './oidc.ts';
import { registerAttestationCommands } from './attestation.ts';
import { registerWorkloadCommands } from './workloads.ts';
import { registerApiKeyCommands } from './apiKeys.ts';
import { registerScanCommand } from './scan.ts';
import { registerNhiCommands } from './nhi.ts';
import { registerAnalyseCommand } from './analyse.ts';
import { registerImportCommands } from './import.ts';
import { registerAdoptionCommand } from './adoption.ts';
import { registerReportCommand } from './report.ts';
import { registerPolicyCommands } from './policy.ts';
import { RiskConfigError } from '../services/risk/setup.ts';

/** Runs `work` against the configured database, then closes it. */
async function withDeps<T>(work: (deps: Deps, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const { db, store } = await openStore(config);
  try {
    // Without KEYBOUND_ORIGIN here, links use the public URL the server stored when it started.
    const publicUrl = config.originConfigured ? config.publicUrl : ((await store.settings.get('server.public_url')) ?? config.publicUrl);
    // Security events (a role change) go to stderr, in the server's JSON log shape.
    const log = jsonLineLog(config.logLevel, (line) => process.stderr.write(line));
    return await work(await createDeps({ config: { ...config, publicUrl }, store, log }), config);
  } finally {
    await db.close();
  }
}

function fail(message: string): never {
  process.stderr.write(`keybound: ${message}\n`);
  process.exit(1);
}

const program = new Command();
program.name('keybound').description('Keybound, a passwordless-first identity server').showHelpAfterError();

program
  .command('serve')
  .description('run the server (configuration from KEYBOUND_* environment variables)')
  .action(async () => {
    // The server is where the OpenID provider's own runtime notice belongs.
    console.warn = originalWarn;
    // Loaded here so the other commands do not pay for the HTTP stack.
    const { startServer, ListenError } = await import('../server.ts');
    const config = loadConfig();
    // A signal while the server still waits for its database ends the wait: nothing is in flight yet.
    const starting = new AbortController();
    const stopEarly = () => starting.abort();
    process.on('SIGTERM', stopEarly);
    process.on('SIGINT', stopEarly);
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer(config, { signal: starting.signal });
    } catch (error) {
      if (starting.signal.aborted) process.exit(0);
      if (error instanceof DatabaseUnreachableError) fail(`${error.message}; gave up after KEYBOUND_DATABASE_START_WAIT (${config.databaseStartWaitMs / 1000} s)`);
      if (error instanceof ListenError) fail(error.message);
      throw error;
    }
    process.off('SIGTERM', stopEarly);
    process.off('SIGINT', stopEarly);
    // A signal that came after the wait (migrations, first key, listen) still stops the server.
    if (starting.signal.aborted) {
      await server.close();
      process.exit(0);
    }
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      server.app.log.info({ signal }, 'shutting down');
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          server.app.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

const parseRole = (value: string): Role => {
  if (!(ROLES as readonly string[]).includes(value)) throw new InvalidArgumentError(`role must be one of ${ROLES.join(', ')}`);
  return value as Role;
};
const parseSeconds = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 60) throw new InvalidArgumentError('a whole number of seconds, at least 60');
  return Number(value);
};

program
  .command('invite')
  .description('create an account (or a new enrolment link for an invited one that never enrolled) and print its single-use enrolment link; an active account is refused: see recoveries request')
  .argument('<username>', 'lower-case letters, digits and . _ @ -')
  .option('--role <role>', `${ROLES.join(' | ')} (a new account; an existing one keeps its role: see accounts set-role)`, parseRole)
  .option('--display-name <name>', 'name shown to the person (a new account)')
  .option('--email <address>', 'address for security notices (a new account)')
  .option('--ttl <seconds>', 'link lifetime (default KEYBOUND_INVITATION_TTL)', parseSeconds)
  .option('--json', 'print {"url", "token", "expiresAt"} as JSON')
  .action(async (username: string, options: { role?: Role; displayName?: string; email?: string; ttl?: number; json?: boolean }) => {
    const result = await withDeps((deps) =>
      invite(deps, {
        username,
        ...(options.role ? { role: options.role } : {}),
        ...(options.displayName ? { displayName: options.displayName } : {}),
        email: options.email ?? null,
        createdBy: 'cli',
        ...(options.ttl ? { ttlMs: options.ttl * 1000 } : {}),
      }),
    );
    if (!result.ok) fail(result.message ?? result.code);
    const { url, token, expiresAt, account } = result.value;
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ url, token, expiresAt: new Date(expiresAt).toISOString(), account: { id: account.id, username: account.username, role: account.role, status: account.status } })}\n`);
    } else {
      process.stdout.write(`Enrolment link for ${account.username} (${account.role}), single use, valid until ${new Date(expiresAt).toISOString()}:\n${url}\n`);
    }
  });

registerAccountCommands(program, withDeps);
registerRecoveryCommands(program, withDeps);

program
  .command('migrate')
  .description('apply database migrations and exit (run it as the database owner when KEYBOUND_MIGRATE_ON_START=false)')
  .action(async () => {
    const config = loadConfig();
    const { db, applied } = await openStore(config, { migrate: true });
    await db.close();
    process.stdout.write(applied.length ? `Applied migrations ${applied.join(', ')} to ${db.description}\n` : `${db.description} is up to date\n`);
  });

const keys = program.command('keys').description('encryption and signing keys');
keys
  .command('generate-data-key')
  .description('print a new value for KEYBOUND_DATA_KEYS (put the new key first and keep the old ones to rotate)')
  .option('--id <id>', 'key id', `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`)
  .action((options: { id: string }) => {
    process.stdout.write(`${generateDataKey(options.id)}\n`);
  });

registerOidcCommands(program, withDeps);
registerAttestationCommands(program, withDeps);
registerWorkloadCommands(program, withDeps);
registerApiKeyCommands(program, withDeps);
registerScanCommand(program, withDeps);
registerNhiCommands(program, withDeps);

registerAuditCommands(program, withDeps);
registerAnalyseCommand(program, withDeps);
registerImportCommands(program, withDeps);
registerAdoptionCommand(program, withDeps);
registerReportCommand(program, withDeps);
registerPolicyCommands(program, withDeps);

// oidc-provider warns on import that Node.js 20 is not its supported runtime; that is the server's
// concern (README "Dependencies"), not something to print under every command that loads it.
const originalWarn = console.warn;
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
  originalWarn(...args);
};

// No command: help, not a server (`npm start` runs `serve` by name).
if (process.argv.length <= 2) {
  program.outputHelp();
  process.exit(0);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError || error instanceof DatabaseUrlError || error instanceof DatabaseUnreachableError || error instanceof SchemaBehindError || error instanceof RiskConfigError) fail(error.message);
  if (isDatabaseRefusal(error)) fail(`the database refused: ${error.message} (SQLSTATE ${error.code})`);
  throw error;
}
