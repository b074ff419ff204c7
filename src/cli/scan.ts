import { readFileSync, writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config/load.ts';
import type { Deps } from '../services/deps.ts';
// The scanner (and secretlint's rules under it) is loaded when `scan` runs, not by every command.
import type { ScanReport } from '../services/nhi/scan/scan.ts';
import { CLI_BY } from './workloads.ts';

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

const FORMATS = ['text', 'json', 'sarif'] as const;
type Format = (typeof FORMATS)[number];

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

async function render(report: ScanReport, format: Format): Promise<string> {
  if (format === 'sarif') {
    const { toSarif } = await import('../services/nhi/scan/sarif.ts');
    return JSON.stringify(toSarif(report.findings, packageVersion()), null, 2);
  }
  if (format === 'json') return JSON.stringify(report);
  const lines = report.findings.map(
    (f) => `${f.path}:${f.line}:${f.column}${f.commit ? ` (commit ${f.commit.slice(0, 12)})` : ''}  ${f.state.toUpperCase()}${f.revoked ? ' (revoked now)' : ''}  ${f.ruleId}  ${f.redacted}`,
  );
  const live = report.findings.filter((f) => f.state === 'live').length;
  lines.push(`Scanned ${report.files} files${report.commits ? ` and ${report.commits} commits` : ''} (${report.skipped} binary or large files skipped): ${report.findings.length} findings, ${live} live Keybound keys.`);
  return lines.join('\n');
}

/** `keybound scan <path>` (docs/nhi.md). Exit code 1 when a live Keybound key or another secret is found. */
export function registerScanCommand(program: Command, withDeps: WithDeps): void {
  program
    .command('scan')
    .description('find Keybound API keys (and other secrets) in files and git history; exit 1 when a live one is found')
    .argument('<path>', 'folder (or file) to scan')
    .option('--git', "also scan every commit's added lines (git log -p --all)")
    .option('--revoke', 'revoke the live Keybound keys found (audited)')
    .option('--no-other-secrets', "only Keybound keys (skip secretlint's recommended rules)")
    .option('--format <format>', `${FORMATS.join(', ')} (default text)`, (v: string) => {
      if (!(FORMATS as readonly string[]).includes(v)) throw new InvalidArgumentError(`one of ${FORMATS.join(', ')}`);
      return v as Format;
    }, 'text' as Format)
    .option('--output <file>', 'write the report there instead of stdout')
    .action(async (path: string, o: { git?: boolean; revoke?: boolean; otherSecrets: boolean; format: Format; output?: string }) => {
      const tty = process.stderr.isTTY === true;
      const { scan } = await import('../services/nhi/scan/scan.ts');
      const report = await withDeps((deps) =>
        scan(deps, {
          path,
          git: o.git ?? false,
          revoke: o.revoke ?? false,
          otherSecrets: o.otherSecrets,
          by: CLI_BY,
          // A progress line on a terminal only; CI logs stay clean.
          ...(tty ? { progress: (done: number, label: string) => void process.stderr.write(`\r\x1b[2Kscanning ${done}: ${label.slice(0, 60)}`) } : {}),
        }),
      ).catch((error: Error) => {
        process.stderr.write(`keybound: cannot scan ${path}: ${error.message}\n`);
        process.exit(2);
      });
      if (tty) process.stderr.write('\r\x1b[2K');
      const text = await render(report, o.format);
      if (o.output) writeFileSync(o.output, `${text}\n`);
      else process.stdout.write(`${text}\n`);
      process.exitCode = report.failed ? 1 : 0;
    });
}
