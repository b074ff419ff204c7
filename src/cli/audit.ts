import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config/load.ts';
import { auditAnchorKey } from '../core/audit/anchor.ts';
import type { AuditEvent } from '../core/model.ts';
import { verifyAuditTrail } from '../services/auditTrail.ts';
import type { Deps } from '../services/deps.ts';
import { auditLine, findAuditEvents, parseSinceValue } from '../services/auditExport.ts';

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

function fail(message: string): never {
  process.stderr.write(`keybound: ${message}\n`);
  process.exit(1);
}

/** `--since`: an ISO 8601 date or time, or an age such as `30m`, `24h`, `7d`. */
export function parseSince(value: string, now: number = Date.now()): number {
  const at = parseSinceValue(value, now);
  if (at === null) throw new InvalidArgumentError('an ISO 8601 date or time (2026-12-01, 2026-12-01T09:00Z) or an age (30m, 24h, 7d)');
  return at;
}

const parseLimit = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1_000_000) throw new InvalidArgumentError('a whole number from 1 to 1000000');
  return Number(value);
};

export function registerAuditCommands(program: Command, withDeps: WithDeps): void {
  const audit = program.command('audit').description('the audit trail');
  audit
    .command('verify')
    .description('check the hash chain and its anchor: every event in place, none changed, none missing at the end')
    .action(async () => {
      const verdict = await withDeps((deps) => verifyAuditTrail(deps.store, auditAnchorKey(deps.dataKeys.keys)));
      if (!verdict.ok) fail(`audit trail broken at event ${verdict.position}: ${verdict.problem} (${verdict.checked} events verified before it)`);
      const legacy = verdict.chainedOnly > 0 ? ` (the first ${verdict.chainedOnly}, written before anchoring, are chained only)` : '';
      process.stdout.write(`Audit trail intact: ${verdict.checked} events, anchored${legacy}\n`);
    });

  audit
    .command('list')
    .description('print audit events, oldest first')
    .option('--account <username>', 'events of this account (username or id)')
    .option('--type <type>', 'events of this type; `account.*` for every type that starts with `account.`')
    .option('--since <when>', 'events at or after an ISO 8601 date or time, or an age (30m, 24h, 7d)', (v) => parseSince(v))
    .option('--limit <n>', 'at most this many, the newest (default 100)', parseLimit, 100)
    .option('--json', 'one JSON object per line')
    .action(async (options: { account?: string; type?: string; since?: number; limit: number; json?: boolean }) => {
      const { events, usernames } = await withDeps(async (deps) => {
        const found = await findAuditEvents(deps, { account: options.account, type: options.type, since: options.since, limit: options.limit });
        if (!found.ok) fail(`no account ${options.account}`);
        return found.value;
      });
      for (const event of events) process.stdout.write(`${options.json ? JSON.stringify(auditLine(event, usernames)) : asText(event, usernames)}\n`);
    });
}

function asText(e: AuditEvent, usernames: ReadonlyMap<string, string>): string {
  const who = e.accountId ? (usernames.get(e.accountId) ?? e.accountId) : '-';
  const outcome = e.reason ? `${e.outcome}:${e.reason}` : e.outcome;
  return [String(e.seq).padStart(6), new Date(e.at).toISOString(), e.type.padEnd(24), outcome.padEnd(10), who, e.detailsJson === '{}' ? '' : e.detailsJson].join('  ').trimEnd();
}
