import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../config/load.ts';
import type { Deps } from '../services/deps.ts';
import { CsvError, readCsv } from '../services/import/csv.ts';
import { importAccounts, type ImportReport } from '../services/import/importAccounts.ts';
import { KeycloakFormatError, readKeycloak } from '../services/import/keycloak.ts';
import type { Problem, RawRecord } from '../services/import/record.ts';

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** A progress line on a terminal (stderr), redrawn at most every 100 ms; nothing when piped. */
function progress(): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done !== total && now - last < 100) return;
    last = now;
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    if (done === total) process.stderr.write('\n');
  };
}

function printReport(report: ImportReport): void {
  const verb = report.dryRun ? 'would be imported' : 'imported';
  out(`${report.records} records read from the ${report.source} file${report.dryRun ? ' (dry run: nothing written)' : ''}`);
  out(`  ${verb}: ${report.imported}`);
  out(`  already imported, unchanged: ${report.unchanged}`);
  out(`  skipped: ${report.skipped.length}`);
  for (const s of report.skipped) out(`    ${s.where}${s.username ? ` (${s.username})` : ''}: ${s.reason}`);
  out(`  not imported (bad records): ${report.problems.length}`);
  for (const p of report.problems) out(`    ${p.where}${p.username ? ` (${p.username})` : ''}: ${p.reason}`);
  if (report.imported === 0 && !report.dryRun) out('Nothing changed.');
}

function run(withDeps: WithDeps, source: ImportReport['source'], read: (text: string) => Iterable<RawRecord | Problem>) {
  return async (file: string, options: { dryRun?: boolean; json?: boolean }) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      process.stderr.write(`keybound: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}\n`);
      process.exit(1);
    }
    let records: (RawRecord | Problem)[];
    try {
      records = [...read(text)];
    } catch (error) {
      if (error instanceof CsvError || error instanceof KeycloakFormatError) {
        process.stderr.write(`keybound: ${file}: ${error.message}; nothing imported\n`);
        process.exit(1);
      }
      throw error;
    }
    const onProgress = progress();
    const report = await withDeps((deps) => importAccounts(deps, { source, records, dryRun: options.dryRun === true, ...(onProgress ? { onProgress } : {}) }));
    if (options.json) out(JSON.stringify(report));
    else printReport(report);
    // Bad records are worth a non-zero exit, so a script notices; the good ones are imported.
    if (report.problems.length > 0) process.exitCode = 2;
  };
}

/** `keybound import keycloak|csv <file>` (README "Importing accounts"). */
export function registerImportCommands(program: Command, withDeps: WithDeps): void {
  const command = program.command('import').description('import accounts from another identity system (they arrive invited; each moves to a passkey)');
  command
    .command('keycloak')
    .description('import the users of a Keycloak realm export (JSON)')
    .argument('<file>', 'realm export, or a <realm>-users-<n>.json file')
    .option('--admin-role <name>', 'the Keycloak realm role or group whose members become admin', 'admin')
    .option('--dry-run', 'check and report, write nothing')
    .option('--json', 'print the report as JSON')
    .action((file: string, options: { adminRole: string; dryRun?: boolean; json?: boolean }) =>
      run(withDeps, 'keycloak', (text) => readKeycloak(text, { adminRole: options.adminRole }))(file, options),
    );
  command
    .command('csv')
    .description('import accounts from CSV: username,email,display_name,role,phone,password_hash,totp_secret')
    .argument('<file>', 'CSV with a header line')
    .option('--dry-run', 'check and report, write nothing')
    .option('--json', 'print the report as JSON')
    .action(run(withDeps, 'csv', readCsv));
}
