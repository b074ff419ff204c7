import type { ChangeWith, ControlStatus, Framework, Report, ReportFacts } from './model.ts';
import { nist63b } from './nist63b.ts';
import { csf } from './csf.ts';
import { zeroTrust } from './zeroTrust.ts';
import { nhiTop10 } from './nhi.ts';

export const FRAMEWORKS: readonly Framework[] = [nist63b, csf, zeroTrust, nhiTop10];

/** Every rule of every framework, evaluated against the same facts. */
export function evaluateReport(facts: ReportFacts, frameworks: readonly Framework[] = FRAMEWORKS): Report {
  return {
    generatedAt: new Date(facts.generatedAt).toISOString(),
    frameworks: frameworks.map((f) => ({
      id: f.id,
      title: f.title,
      controls: f.rules.map((r) => ({ id: r.id, title: r.title, ...r.evaluate(facts), changeWith: r.changeWith })),
    })),
  };
}

/** The change-with line that ends a control's evidence in JSON and Markdown. */
export function changeWithText(c: ChangeWith): string {
  const parts = [...(c.settings ?? []), c.docs, ...(c.page ? [c.page] : [])];
  return `Change with: ${parts.join(', ')}`;
}

/**
 * The report as JSON: `{"generatedAt", "frameworks": [{"id", "title", "controls": [{"id", "title",
 * "status", "evidence"}]}]}`; the last evidence line says what changes the control.
 */
export function reportJson(report: Report) {
  return {
    generatedAt: report.generatedAt,
    frameworks: report.frameworks.map((f) => ({
      id: f.id,
      title: f.title,
      controls: f.controls.map((c) => ({ id: c.id, title: c.title, status: c.status, evidence: [...c.evidence, changeWithText(c.changeWith)] })),
    })),
  };
}

export const STATUS_WORDS: Readonly<Record<ControlStatus, string>> = { met: 'Met', partial: 'Partly met', not_met: 'Not met', not_applicable: 'Not applicable' };

/** Counts by status, for a summary line. */
export function statusCounts(report: Report): Record<ControlStatus, number> {
  const counts: Record<ControlStatus, number> = { met: 0, partial: 0, not_met: 0, not_applicable: 0 };
  for (const f of report.frameworks) for (const c of f.controls) counts[c.status]++;
  return counts;
}

