/**
 * The increasing delay between failed code attempts, per account and per client address (NIST SP
 * 800-63B-4 §3.2.2 lets a verifier make the claimant wait after failures, in addition to the hard
 * limit per authenticator). The first `free` attempts go through at once; after that each attempt
 * doubles the wait before the next, from `baseMs` up to `maxMs`.
 *
 * The store applies this rule inside one atomic statement (store/sql/codeThrottles.ts), so
 * instances sharing a database cannot race past it; this pure form documents it and is what the
 * store's contract test compares against.
 */
export interface ThrottlePolicy {
  readonly free: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

/** The wait set after the `failures`-th attempt, given the wait set after the previous one. */
export function nextDelayMs(previousDelayMs: number, failures: number, policy: ThrottlePolicy): number {
  if (failures <= policy.free) return 0;
  if (previousDelayMs === 0) return policy.baseMs;
  return Math.min(previousDelayMs * 2, policy.maxMs);
}

/** Whole seconds to wait, at least 1, for `retry_after`. */
export function retryAfterSeconds(blockedUntil: number, now: number): number {
  return Math.max(1, Math.ceil((blockedUntil - now) / 1000));
}
