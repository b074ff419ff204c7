import type { Command } from 'commander';
import type { Config } from '../config/load.ts';
import { reasonsInWords } from '../core/risk/reasons.ts';
import type { Deps } from '../services/deps.ts';
import { RiskConfigError, readPolicyFile } from '../services/risk/setup.ts';
import { replaySignIns } from '../services/risk/replay.ts';
import { parseSince } from './audit.ts';

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

function fail(message: string): never {
  process.stderr.write(`keybound: ${message}\n`);
  process.exit(1);
}

/** `keybound policy check|test` (docs/risk.md). */
export function registerPolicyCommands(program: Command, withDeps: WithDeps): void {
  const policy = program.command('policy').description('the risk policy (KEYBOUND_POLICY_FILE, docs/risk.md)');
  policy
    .command('check <file>')
    .description('validate a policy file; every error names the path of the field at fault')
    .action((file: string) => {
      try {
        const read = readPolicyFile(file);
        process.stdout.write(`${file}: valid, ${read.rules.length} rule${read.rules.length === 1 ? '' : 's'}: ${read.rules.map((r) => r.name).join(', ')}\n`);
      } catch (error) {
        if (error instanceof RiskConfigError) fail(error.message);
        throw error;
      }
    });

  policy
    .command('test')
    .description('replay the sign-ins of the audit trail and print what the policy would have decided')
    .option('--since <when>', 'sign-ins at or after an ISO 8601 date or time, or an age (30m, 24h, 7d); default 7d', (v) => parseSince(v))
    .option('--file <policy.json>', 'a policy file to try instead of the configured one')
    .option('--json', 'one JSON object per line')
    .action(async (options: { since?: number; file?: string; json?: boolean }) => {
      let candidate;
      try {
        candidate = options.file ? readPolicyFile(options.file) : undefined;
      } catch (error) {
        if (error instanceof RiskConfigError) fail(error.message);
        throw error;
      }
      const since = options.since ?? parseSince('7d');
      const { replayed, usernames, source } = await withDeps(async (deps) => {
        const replayed = await replaySignIns(deps, candidate ?? deps.risk.policy, since);
        const usernames = new Map<string, string>();
        for (const id of new Set(replayed.flatMap((r) => (r.accountId ? [r.accountId] : [])))) usernames.set(id, (await deps.store.accounts.findById(id))?.username ?? id);
        return { replayed, usernames, source: options.file ?? deps.risk.source };
      });
      const counts = { allow: 0, step_up: 0, deny: 0 };
      for (const r of replayed) {
        counts[r.decision] += 1;
        const who = r.accountId ? (usernames.get(r.accountId) ?? r.accountId) : '-';
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ at: new Date(r.at).toISOString(), seq: r.seq, account: who, method: r.method, recorded: r.recorded, signals: r.signals, decision: r.decision, reasons: r.reasons })}\n`);
        } else {
          const why = r.reasons.length > 0 ? `  (${reasonsInWords(r.reasons)})` : '';
          process.stdout.write(`${new Date(r.at).toISOString()}  ${who}  ${r.method}  was ${r.recorded}  would ${r.decision}${why}\n`);
        }
      }
      if (!options.json) process.stdout.write(`${replayed.length} sign-ins replayed through ${source}: ${counts.allow} allowed, ${counts.step_up} stepped up, ${counts.deny} denied\n`);
    });
}
