import type { Command } from 'commander';
import type { Config } from '../config/load.ts';
import { errorMessage } from '../core/errors.ts';
import { acrInWords } from '../core/paths/levels.ts';
import type { Acr } from '../core/assurance/level.ts';
import type { Deps } from '../services/deps.ts';
import { analyseAll, analyseUsername, type Summary } from '../services/paths/analyse.ts';
import type { AnalysisJson } from '../services/paths/report.ts';

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** `keybound analyse [--account <username>] [--json]`: takeover-path analysis (docs/paths.md). */
export function registerAnalyseCommand(program: Command, withDeps: WithDeps): void {
  program
    .command('analyse')
    .description('every way into an account and the level its weakest way in gives; without --account, a summary per role and every account below its role\'s level')
    .option('--account <username>', 'one account')
    .option('--json', 'print JSON')
    .action(async (options: { account?: string; json?: boolean }) => {
      if (options.account !== undefined) {
        const username = options.account;
        const result = await withDeps((deps) => analyseUsername(deps, { username }));
        if (!result.ok) {
          process.stderr.write(`keybound: ${result.message ?? errorMessage(result.code)}\n`);
          process.exit(1);
        }
        if (options.json) out(JSON.stringify(result.value));
        else printAnalysis(result.value);
        return;
      }
      const summary = await withDeps((deps) => analyseAll(deps));
      if (options.json) out(JSON.stringify(summary));
      else printSummary(summary);
    });
}

function printAnalysis(a: AnalysisJson): void {
  out(`${a.account} (${a.role}): effective ${a.effectiveAcr ?? 'none'}, required ${a.requiredAcr}`);
  out(`  ${acrInWords(a.effectiveAcr as Acr | null)}`);
  out('Paths:');
  for (const p of a.paths) out(`  ${p.id.padEnd(28)} ${p.grantsAcr.padEnd(22)} opened by: ${p.capabilities.map((s) => s.join(' + ')).join(' | ')}`);
  if (a.governedPaths.length > 0) {
    out('Governed paths (not in the effective level):');
    for (const p of a.governedPaths) out(`  ${p.id.padEnd(28)} opened by: ${p.capabilities.map((s) => s.join(' + ')).join(' | ')}${p.safeguards ? `; ${p.safeguards.join('; ')}` : ''}`);
  }
  if (a.findings.length > 0) {
    out('Findings:');
    for (const f of a.findings) out(`  ${f.code}: ${f.message}`);
  }
  for (const line of a.advice) out(`Advice: ${line}`);
}

function printSummary(s: Summary): void {
  for (const r of s.roles) {
    const levels = Object.entries(r.byEffectiveAcr).map(([acr, n]) => `${acr.replace('urn:keybound:', '')} ${n}`).join(', ');
    out(`${r.role}: ${r.accounts} accounts (${levels || 'none'}); required ${r.requiredAcr.replace('urn:keybound:', '')}; ${r.belowRequired} below it`);
    if (r.findings.length > 0) out(`  most common findings: ${r.findings.map((f) => `${f.code} (${f.accounts})`).join(', ')}`);
  }
  if (s.below.length > 0) {
    out('Below their role\'s level:');
    for (const b of s.below) out(`  ${b.account} (${b.role}): ${b.effectiveAcr ?? 'none'} < ${b.requiredAcr}, weakest: ${b.weakest.join(', ')}`);
  }
}
