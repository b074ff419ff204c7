/**
 * Runs fuzz-table rows in process (issue 5): thousands of hostile requests per endpoint through the
 * whole HTTP stack with `app.inject`. Every answer must be a 4xx (or a success) with a registered
 * error code and its status, never a 5xx, and never hang (fuzz/judge.ts); afterwards no
 * stored string is past its bound. KEYBOUND_FUZZ_SCALE multiplies the cases for a longer hunt.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { MEMBER_CODES_ENV } from '../../codes/support.ts';
import { expectStringsWithinBounds } from '../support/bounds.ts';
import { record, Tally } from '../support/report.ts';
import { createFuzzContext } from './context.ts';
import type { FuzzContext, FuzzEndpoint } from './types.ts';
import { judge } from './judge.ts';

const SCALE = Number(process.env.KEYBOUND_FUZZ_SCALE ?? '1');

export function describeFuzz(title: string, endpoints: readonly FuzzEndpoint[]): void {
  describe(title, () => {
    let t: TestApp;
    let ctx: FuzzContext;
    beforeAll(async () => {
      // Code factors allowed, so their endpoints are fuzzed past the policy check.
      t = await startTestApp({ env: MEMBER_CODES_ENV });
      ctx = await createFuzzContext(t);
    });
    afterAll(async () => t?.close());

    for (const endpoint of endpoints) {
      const runs = Math.max(1, Math.round(endpoint.runs * SCALE));
      it(`${endpoint.name}: ${runs} cases`, async ({ task }) => {
        const tally = new Tally();
        const outcomes = new Map<string, number>();
        await fc.assert(
          fc.asyncProperty(endpoint.recipes, async (recipe) => {
            const request = await endpoint.build(recipe, ctx);
            const started = performance.now();
            const response = await t.app.inject({ method: request.method, url: request.url, headers: request.headers ?? {}, ...(request.payload !== undefined ? { payload: request.payload } : {}) });
            const ms = performance.now() - started;
            tally.requests++;
            tally.badInput(response.statusCode, ms);
            let error: string | undefined;
            try {
              error = response.json().error;
            } catch {
              error = undefined;
            }
            const outcome = `${response.statusCode}${error ? ` ${error}` : ''}`;
            outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
            ctx.observe({ status: response.statusCode, ...(error ? { error } : {}) });
            const problem = judge(request, { status: response.statusCode, contentType: String(response.headers['content-type'] ?? ''), body: response.body }, ms);
            if (problem) throw new Error(problem);
          }),
          { numRuns: runs },
        );
        tally.notes.push([...outcomes].sort(([a], [b]) => a.localeCompare(b)).map(([o, n]) => `${n}×${o}`).join(', '));
        record(task, tally.figures());
        expect(tally.badInput5xx).toBe(0);
      });
    }

    // Whatever the hostile requests managed to store stays within its bounds.
    it('stores no string past its bound afterwards', async ({ task }) => {
      await expectStringsWithinBounds(t.database.url, task);
    });
  });
}
