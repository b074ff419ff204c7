/**
 * Prints the reliability table (issue 5) before vitest's own summary, whenever reliability tests ran
 * (`npm run test:reliability`, or `npm test` which includes them), and writes it as JSON under the
 * OS temp folder, one file per run, for CI to keep.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { formatTable, type ReportRow } from './report.ts';

export default class ReliabilityReporter implements Reporter {
  private readonly rows = new Map<string, ReportRow>();

  onTestCaseResult(testCase: TestCase): void {
    const figures = testCase.meta().reliability;
    if (figures) this.rows.set(testCase.id, { test: testCase.fullName, ...figures });
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (this.rows.size === 0) return;
    // Module order, then declaration order, so the table reads the same on every run.
    const order = new Map<string, number>();
    for (const module of testModules) for (const test of module.children.allTests()) order.set(test.id, order.size);
    const rows = [...this.rows.entries()].sort(([a], [b]) => (order.get(a) ?? 0) - (order.get(b) ?? 0)).map(([, row]) => row);
    const dir = join(tmpdir(), 'keybound-reliability');
    const file = join(dir, `report-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.json`);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, `${JSON.stringify({ generatedAt: new Date().toISOString(), rows }, null, 2)}\n`);
    } catch {
      // The printed table is the report; the file is a convenience.
    }
    process.stdout.write(`\nReliability report (issue 5)\n\n${formatTable(rows)}\n\nJSON: ${file}\n\n`);
  }
}
