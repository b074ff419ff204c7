import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import type { Config } from '../config/load.ts';
import { reportJson } from '../core/report/evaluate.ts';
import { reportMarkdown } from '../core/report/markdown.ts';
import { renderReportDocument } from '../http/pages/admin/report.ts';
import type { Deps } from '../services/deps.ts';
import { reportFor } from '../services/report/access.ts';

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

/**
 * `keybound report [--format json|html|md] [--output <file>]` (docs/report.md): the standards
 * report from the same `KEYBOUND_*` configuration and database as the server.
 */
export function registerReportCommand(program: Command, withDeps: WithDeps): void {
  program
    .command('report')
    .description('the standards report (NIST SP 800-63B-4, NIST CSF 2.0, NIST SP 800-207, OWASP NHI Top 10) computed now from this configuration and database')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'html', 'md']).default('md'))
    .option('--output <file>', 'write to this file instead of standard output')
    .action(async (o: { format: 'json' | 'html' | 'md'; output?: string }) => {
      const result = await withDeps((deps) => reportFor(deps));
      if (!result.ok) {
        process.stderr.write(`keybound: ${result.message ?? result.code}\n`);
        process.exit(1);
      }
      const report = result.value;
      const text =
        o.format === 'json'
          ? `${JSON.stringify(reportJson(report), null, 2)}\n`
          : o.format === 'html'
            ? renderReportDocument(report, await readFile(fileURLToPath(new URL('../http/assets/style.css', import.meta.url)), 'utf8'))
            : reportMarkdown(report);
      if (o.output) {
        await writeFile(o.output, text, 'utf8');
        process.stderr.write(`Wrote the ${o.format} report to ${o.output}\n`);
      } else {
        process.stdout.write(text);
      }
    });
}
