import type { Command } from 'commander';
import type { Config } from '../config/load.ts';
import type { Deps } from '../services/deps.ts';
import { nhiReport } from '../services/nhi/report.ts';
import { CLI_BY } from './workloads.ts';

const KIND_WORDS = { workload: 'workload  ', api_key: 'API key   ', delegation: 'delegation' } as const;

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

/** `keybound nhi report` (docs/nhi.md). */
export function registerNhiCommands(program: Command, withDeps: WithDeps): void {
  const nhi = program.command('nhi').description('machine identities as a whole');
  nhi
    .command('report')
    .description('orphaned, stale, unrotated, expiring and over-long workloads and API keys; unused delegations to agents')
    .option('--disable', 'disable the orphaned and stale workloads, revoke such API keys and the unused delegations (audited)')
    .option('--json', 'print JSON')
    .action(async (o: { disable?: boolean; json?: boolean }) => {
      const report = await withDeps((deps) => nhiReport(deps, { disable: o.disable ?? false, by: CLI_BY }));
      if (o.json) return void process.stdout.write(`${JSON.stringify(report)}\n`);
      const lines = report.entries.map((e) => `${KIND_WORDS[e.kind]}  ${e.id}  ${e.agent !== undefined ? `agent ${e.name} (${e.agent})  for ${e.owner}` : `${e.name}  owner ${e.owner}`}  ${e.issues.join(', ')}  last used ${e.lastUsedAt ?? 'never'}${e.disabled ? `  ${e.kind === 'delegation' ? 'REVOKED' : 'DISABLED'} now` : ''}`);
      lines.push(`${report.workloads} active workloads, ${report.apiKeys} active API keys and ${report.delegations} live delegations checked; ${report.entries.length} need attention.`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
