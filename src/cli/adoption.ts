import type { Command } from 'commander';
import type { Config } from '../config/load.ts';
import type { Deps } from '../services/deps.ts';
import { adoption } from '../services/migration/adoption.ts';

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

/** `keybound adoption [--json]`: per role, who has moved to passkeys and how long the rest have. */
export function registerAdoptionCommand(program: Command, withDeps: WithDeps): void {
  program
    .command('adoption')
    .description('per role: accounts enrolled with a passkey, pending, overdue (past KEYBOUND_<ROLE>_MIGRATION_UNTIL), days left')
    .option('--json', 'print one JSON array')
    .action(async (options: { json?: boolean }) => {
      const rows = await withDeps((deps) => adoption(deps));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const table = [
        ['role', 'enrolled', 'pending', 'imported', 'overdue', 'migration until', 'days left'],
        ...rows.map((r) => [r.role, String(r.enrolled), String(r.pending), String(r.pendingImported), String(r.overdue), r.migrationUntil ?? 'no password path', r.daysLeft === null ? '-' : String(r.daysLeft)]),
      ];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      for (const row of table) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    });
}
