import { fail, ok, type Result } from '../core/errors.ts';
import type { Deps } from './deps.ts';

/**
 * Fixed-window rate limit kept in the database, so every instance counts against the same budget.
 * `max` of 0 lifts the limit.
 */
export async function checkRateLimit(deps: Deps, key: string, limit: { max: number; windowMs: number }): Promise<Result<null>> {
  if (limit.max === 0) return ok(null);
  const now = deps.clock();
  const windowStart = now - (now % limit.windowMs);
  const count = await deps.store.rateLimits.hit(key, windowStart);
  if (count > limit.max) {
    const retryAfter = Math.max(1, Math.ceil((windowStart + limit.windowMs - now) / 1000));
    return fail('rate_limited', { retryAfter });
  }
  return ok(null);
}
