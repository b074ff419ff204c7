import type { Command } from 'commander';
import type { Config } from '../config/load.ts';
import type { Deps } from '../services/deps.ts';
import { adoption } from '../services/migration/adoption.ts';
import { dueReminders, sendReminders } from '../services/migration/reminders.ts';

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
  // The adoption command's own subcommand; `keybound adoption` alone still prints the table.
  const adoptionCommand = program.commands.find((c) => c.name() === 'adoption')!;
  adoptionCommand
    .command('remind')
    .description('email the reminders due now under KEYBOUND_ADOPTION_REMINDERS to imported accounts still without a passkey, each once per step (a server sends them too, hourly)')
    .option('--dry-run', 'list who would be reminded, send nothing, claim nothing')
    .option('--json', 'print JSON')
    .action(async (own: { dryRun?: boolean; json?: boolean }, command: Command) => {
      // `--json` may be taken by `adoption` itself (it has one too): read both.
      const options = { ...own, json: own.json === true || command.optsWithGlobals().json === true };
      const result = await withDeps(async (deps) => {
        if (deps.config.adoptionReminders.length === 0) return { schedule: [], due: [], sent: 0, failed: 0 };
        const due = await dueReminders(deps);
        if (options.dryRun) return { schedule: deps.config.adoptionReminders, due, sent: 0, failed: 0 };
        return { schedule: deps.config.adoptionReminders, due, ...(await sendReminders(deps)) };
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ dryRun: options.dryRun === true, ...result })}\n`);
        return;
      }
      if (result.schedule.length === 0) {
        process.stdout.write('No reminder schedule: set KEYBOUND_ADOPTION_REMINDERS (for example 14,7,1).\n');
        return;
      }
      for (const d of result.due) process.stdout.write(`${options.dryRun ? 'would remind' : 'due'}  ${d.username} (${d.role}, ${d.daysBefore} days before ${d.migrationUntil})\n`);
      process.stdout.write(options.dryRun ? `${result.due.length} reminder(s) due; nothing sent.\n` : `${result.sent} reminder(s) sent, ${result.failed} failed.\n`);
    });
}
