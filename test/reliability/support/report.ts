/**
 * The reliability report (issue 5): each reliability test records what it measured on its vitest
 * task (`task.meta.reliability`); `reporter.ts` collects those from every worker, prints the table at
 * the end of the run and keeps it as JSON. Task metadata, not a file the workers write, so runs going
 * on at the same time on one machine (several engineers, CI shards) never mix their figures.
 */
import type { RunnerTask } from 'vitest';

export interface Figures {
  /** Faults injected: processes killed, connections cut, database stops, slow or malformed clients. */
  readonly faults: number;
  /** HTTP requests (or raw connections) sent. */
  readonly requests: number;
  /** Writes the server acknowledged with a 2xx (enrolments, sign-ins, revocations). */
  readonly acknowledged: number;
  /** Acknowledged writes missing afterwards: must be 0. */
  readonly lost: number;
  /** 5xx answers to bad input: must be 0 (`null` where the test sends no bad input). */
  readonly badInput5xx: number | null;
  /** Slowest answer to bad input, in milliseconds (`null` where the test sends no bad input). */
  readonly slowestBadInputMs: number | null;
  /** Other measurements worth reading (recovery times, answers by status), printed under the table. */
  readonly notes?: string;
}

declare module 'vitest' {
  interface TaskMeta {
    reliability?: Figures;
  }
}

/** Records a test's figures; call it once, at the end of the test, with everything it counted. */
export function record(task: RunnerTask, figures: Partial<Figures>): void {
  task.meta.reliability = { faults: 0, requests: 0, acknowledged: 0, lost: 0, badInput5xx: null, slowestBadInputMs: null, ...figures };
}

/** A running tally a test fills in while it works. */
export class Tally {
  faults = 0;
  requests = 0;
  acknowledged = 0;
  lost = 0;
  badInput5xx: number | null = null;
  slowestBadInputMs: number | null = null;
  readonly notes: string[] = [];

  /** Counts one answer to bad input: its status and how long it took. */
  badInput(status: number, ms: number): void {
    this.badInput5xx = (this.badInput5xx ?? 0) + (status >= 500 ? 1 : 0);
    this.slowestBadInputMs = Math.max(this.slowestBadInputMs ?? 0, ms);
  }

  figures(): Figures {
    const { faults, requests, acknowledged, lost, badInput5xx, slowestBadInputMs } = this;
    return { faults, requests, acknowledged, lost, badInput5xx, slowestBadInputMs, ...(this.notes.length ? { notes: this.notes.join('; ') } : {}) };
  }
}

export interface ReportRow extends Figures {
  readonly test: string;
}

const COLUMNS = ['test', 'faults injected', 'requests sent', 'writes acknowledged', 'acknowledged writes lost', '5xx to bad input', 'slowest bad-input answer'] as const;

/** The table printed at the end of `npm run test:reliability`, with a totals row. */
export function formatTable(rows: readonly ReportRow[]): string {
  const sum = (pick: (r: ReportRow) => number | null) => rows.reduce((n, r) => n + (pick(r) ?? 0), 0);
  const slowest = rows.reduce<number | null>((m, r) => (r.slowestBadInputMs === null ? m : Math.max(m ?? 0, r.slowestBadInputMs)), null);
  const anyBadInput = rows.some((r) => r.badInput5xx !== null);
  const cells = (r: ReportRow): string[] => [
    r.test,
    String(r.faults),
    String(r.requests),
    String(r.acknowledged),
    String(r.lost),
    r.badInput5xx === null ? '-' : String(r.badInput5xx),
    r.slowestBadInputMs === null ? '-' : `${r.slowestBadInputMs.toFixed(1)} ms`,
  ];
  const total: ReportRow = {
    test: 'TOTAL',
    faults: sum((r) => r.faults),
    requests: sum((r) => r.requests),
    acknowledged: sum((r) => r.acknowledged),
    lost: sum((r) => r.lost),
    badInput5xx: anyBadInput ? sum((r) => r.badInput5xx) : null,
    slowestBadInputMs: slowest,
  };
  const table = [[...COLUMNS], ...rows.map(cells), cells(total)];
  const widths = COLUMNS.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const notes = rows.filter((r) => r.notes).map((r) => `- ${r.test}: ${r.notes}`);
  return [line(table[0]!), rule, ...table.slice(1, -1).map(line), rule, line(table[table.length - 1]!), ...(notes.length ? ['', ...notes] : [])].join('\n');
}
