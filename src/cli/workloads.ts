import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config/load.ts';
import { errorMessage, type Result } from '../core/errors.ts';
import { parseDuration } from '../core/nhi/duration.ts';
import type { Deps } from '../services/deps.ts';
import {
  createWorkload,
  disableWorkload,
  enableWorkload,
  listWorkloads,
  rotateWorkloadKeys,
  showWorkload,
  transferWorkload,
  DEFAULT_WORKLOAD_TTL_S,
  MAX_WORKLOAD_TTL_S,
  type WorkloadDetails,
} from '../services/nhi/workloads.ts';
import { collect, providerValidator, readJwks } from './oidc.ts';

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

/** Who the audit trail says ran a command. */
export const CLI_BY = 'cli';

export function finish<T>(result: Result<T>): T {
  if (!result.ok) {
    process.stderr.write(`keybound: ${result.message ?? errorMessage(result.code)}\n`);
    process.exit(1);
  }
  return result.value;
}

const out = (line: string) => void process.stdout.write(`${line}\n`);

export const duration = (value: string): number => {
  const ms = parseDuration(value);
  if (ms === null) throw new InvalidArgumentError('a duration such as 90d, 12h, 30m, 45s or a number of seconds');
  return ms;
};

const wholeSeconds = (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('a whole number of seconds');
  return Number(value);
};

function line(w: WorkloadDetails): string {
  return `${w.client_id}  ${w.name}  ${w.kind}  owner ${w.owner}  ${w.status}${w.disabled_reason ? ` (${w.disabled_reason})` : ''}  ttl ${w.token_ttl}s${w.dpop_required ? '  dpop' : ''}  scopes: ${w.scopes.join(' ') || 'none'}  audiences: ${w.audiences.join(' ') || 'none'}  last used ${w.last_used_at ?? 'never'}`;
}

function print(json: boolean | undefined, w: WorkloadDetails): void {
  if (json) return out(JSON.stringify(w));
  out(line(w));
  out(`  keys: ${w.keys.join(', ')}${w.previous_keys.length ? `; previous keys ${w.previous_keys.join(', ')} valid until ${w.previous_keys_valid_until}` : ''}`);
}

/** `keybound workloads ...` (docs/nhi.md). */
export function registerWorkloadCommands(program: Command, withDeps: WithDeps): void {
  const workloads = program.command('workloads').description('services and AI agents: owned OpenID clients with short-lived, key-bound tokens');
  workloads
    .command('create')
    .description('register a workload; prints its client_id')
    .requiredOption('--name <name>', 'its name')
    .requiredOption('--owner <username>', 'the person answerable for it (an active account)')
    .requiredOption('--kind <kind>', 'service or agent (an agent only gets DPoP-bound tokens)')
    .requiredOption('--jwks <file>', 'its public keys (JWK Set) for private_key_jwt', readJwks)
    .option('--audience <uri>', 'a KEYBOUND_OIDC_RESOURCES API it may get tokens for (repeat for more)', collect, [])
    .option('--scope <scope>', 'a scope it may ask for (repeat for more)', collect, [])
    .option('--ttl <seconds>', `access-token lifetime, at most ${MAX_WORKLOAD_TTL_S} (default ${DEFAULT_WORKLOAD_TTL_S})`, wholeSeconds)
    .option('--json', 'print JSON')
    .action(async (o: { name: string; owner: string; kind: string; jwks: { keys: Record<string, unknown>[] }; audience: string[]; scope: string[]; ttl?: number; json?: boolean }) => {
      const result = await withDeps(async (deps) =>
        createWorkload(deps, { name: o.name, owner: o.owner, kind: o.kind, jwks: o.jwks, audiences: o.audience, scopes: o.scope.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean), ttlS: o.ttl ?? null, by: CLI_BY }, await providerValidator(deps)),
      );
      print(o.json, finish(result));
    });
  workloads
    .command('list')
    .description('list workloads')
    .option('--owner <username>', 'only those of this owner')
    .option('--json', 'print JSON')
    .action(async (o: { owner?: string; json?: boolean }) => {
      const rows = finish(await withDeps((deps) => listWorkloads(deps, o.owner !== undefined ? { owner: o.owner } : {})));
      if (o.json) return out(JSON.stringify(rows));
      out(rows.length ? rows.map(line).join('\n') : 'No workloads.');
    });
  workloads
    .command('show')
    .argument('<client_id>')
    .option('--json', 'print JSON')
    .action(async (clientId: string, o: { json?: boolean }) => print(o.json, finish(await withDeps((deps) => showWorkload(deps, clientId)))));
  workloads
    .command('disable')
    .description('refuse it tokens from now on (invalid_client); tokens issued live until they expire')
    .argument('<client_id>')
    .option('--reason <text>', 'why, for the audit trail')
    .option('--json', 'print JSON')
    .action(async (clientId: string, o: { reason?: string; json?: boolean }) => print(o.json, finish(await withDeps((deps) => disableWorkload(deps, { clientId, by: CLI_BY, reason: o.reason ?? null })))));
  workloads
    .command('enable')
    .argument('<client_id>')
    .option('--json', 'print JSON')
    .action(async (clientId: string, o: { json?: boolean }) => print(o.json, finish(await withDeps((deps) => enableWorkload(deps, { clientId, by: CLI_BY })))));
  workloads
    .command('transfer')
    .description('give it to another active account')
    .argument('<client_id>')
    .requiredOption('--to <username>', 'the new owner')
    .option('--json', 'print JSON')
    .action(async (clientId: string, o: { to: string; json?: boolean }) => print(o.json, finish(await withDeps((deps) => transferWorkload(deps, { clientId, to: o.to, by: CLI_BY })))));
  workloads
    .command('rotate-keys')
    .description('replace its public keys; with --overlap the old ones stay valid that long')
    .argument('<client_id>')
    .requiredOption('--jwks <file>', 'the new public keys (JWK Set)', readJwks)
    .option('--overlap <duration>', 'how long the old keys stay valid (90d, 12h, 30m, 45s; default 0: refused at once)', duration, 0)
    .option('--json', 'print JSON')
    .action(async (clientId: string, o: { jwks: { keys: Record<string, unknown>[] }; overlap: number; json?: boolean }) =>
      print(o.json, finish(await withDeps((deps) => rotateWorkloadKeys(deps, { clientId, jwks: o.jwks, overlapMs: o.overlap, by: CLI_BY })))),
    );
}
