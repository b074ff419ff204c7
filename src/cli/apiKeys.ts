import type { Command } from 'commander';
import type { Config } from '../config/load.ts';
import type { Deps } from '../services/deps.ts';
import { createApiKey, listApiKeys, revokeApiKey, rotateApiKey, showApiKey, type ApiKeyDetails } from '../services/nhi/apiKeys.ts';
import { collect } from './oidc.ts';
import { CLI_BY, duration, finish } from './workloads.ts';

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

const out = (line: string) => void process.stdout.write(`${line}\n`);

const line = (k: ApiKeyDetails) =>
  `${k.id}  ${k.name}  owner ${k.owner}  ${k.status}${k.revoked_reason ? ` (${k.revoked_reason})` : ''}  scopes: ${k.scopes.join(' ')}  expires ${k.expires_at}  last used ${k.last_used_at ?? 'never'}${k.replaced_by ? `  replaced by ${k.replaced_by}` : ''}`;

const print = (json: boolean | undefined, k: ApiKeyDetails) => out(json ? JSON.stringify(k) : line(k));

/** `keybound api-keys ...` (docs/nhi.md). */
export function registerApiKeyCommands(program: Command, withDeps: WithDeps): void {
  const keys = program.command('api-keys').description('API keys for integrations that cannot hold a key pair: owned, scoped, expiring, stored as hashes');
  keys
    .command('create')
    .description('make a key; it is printed once and never again')
    .requiredOption('--owner <username>', 'the person answerable for it (an active account)')
    .requiredOption('--name <name>', 'what it is for')
    .requiredOption('--scope <scope>', 'a scope it carries (repeat for more; from KEYBOUND_OIDC_RESOURCE_SCOPES)', collect, [])
    .option('--expires-in <duration>', 'lifetime (90d, 12h, 30m, 45s), at most KEYBOUND_API_KEY_MAX_TTL (default: that maximum)', duration)
    .option('--json', 'print JSON')
    .action(async (o: { owner: string; name: string; scope: string[]; expiresIn?: number; json?: boolean }) => {
      const created = finish(await withDeps((deps) => createApiKey(deps, { owner: o.owner, name: o.name, scopes: o.scope, expiresInMs: o.expiresIn ?? null, by: CLI_BY })));
      out(o.json ? JSON.stringify(created) : `API key ${created.id}, valid until ${created.expiresAt}; it is shown only now:\n${created.key}`);
    });
  keys
    .command('list')
    .option('--owner <username>', 'only those of this owner')
    .option('--json', 'print JSON')
    .action(async (o: { owner?: string; json?: boolean }) => {
      const rows = finish(await withDeps((deps) => listApiKeys(deps, o.owner !== undefined ? { owner: o.owner } : {})));
      out(o.json ? JSON.stringify(rows) : rows.length ? rows.map(line).join('\n') : 'No API keys.');
    });
  keys
    .command('show')
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => print(o.json, finish(await withDeps((deps) => showApiKey(deps, id)))));
  keys
    .command('revoke')
    .argument('<id>')
    .option('--reason <text>', 'why, for the audit trail')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { reason?: string; json?: boolean }) => print(o.json, finish(await withDeps((deps) => revokeApiKey(deps, { id, by: CLI_BY, reason: o.reason ?? null })))));
  keys
    .command('rotate')
    .description('issue its successor (printed once); the old key ends after --overlap')
    .argument('<id>')
    .option('--overlap <duration>', 'how long the old key stays valid (default 0: ends at once)', duration, 0)
    .option('--expires-in <duration>', "the successor's lifetime (default: the old key's)", duration)
    .option('--json', 'print JSON')
    .action(async (id: string, o: { overlap: number; expiresIn?: number; json?: boolean }) => {
      const rotated = finish(await withDeps((deps) => rotateApiKey(deps, { id, overlapMs: o.overlap, expiresInMs: o.expiresIn ?? null, by: CLI_BY })));
      out(o.json ? JSON.stringify(rotated) : `API key ${rotated.id} replaces ${rotated.replaces} (valid until ${rotated.previousValidUntil}); valid until ${rotated.expiresAt}; shown only now:\n${rotated.key}`);
    });
}
