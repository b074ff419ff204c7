import { KIND_FACTOR, type CodeFactor } from '../../codes/factors.ts';
import { retryAfterSeconds } from '../../codes/throttle.ts';
import { rateLimitKeyForAddress } from '../../core/address.ts';
import { fail, ok, type Result } from '../../core/errors.ts';
import type { CodeAuthenticator, RequestContext } from '../../core/model.ts';
import type { Deps } from '../deps.ts';
import { notifyHolder } from './notify.ts';

/**
 * The limits in front of every code check: sign-in, step-up, recovery codes and the confirmation
 * of a new factor all pass through `admitGuess` before a code is compared, and through
 * `recordCheck` after. Nothing else compares a code.
 *
 * 1. An increasing delay per client address and per account (codes/throttle.ts), so a flood from
 *    one place, or at one account, slows down. Passkey sign-in never consults these counters, so a
 *    flood against an account cannot lock its holder out of it.
 * 2. At most `KEYBOUND_CODE_MAX_FAILURES` (≤ 100) consecutive failures per authenticator, then it is
 *    disabled until rebound from a passkey session and the holder is told (NIST SP 800-63B-4 §3.2.2).
 *    The guess is counted before it is compared, atomically in the database, so no number of
 *    parallel requests on any number of instances can check more guesses than that.
 */
export interface GuardSubject {
  readonly factor: CodeFactor;
  /** `null` for an unknown username or a factor the account lacks: the delays apply all the same. */
  readonly authenticator: CodeAuthenticator | null;
  /** `acct:<id>`, or a stand-in for an unknown username. */
  readonly throttleKey: string;
  readonly accountId: string | null;
  readonly context: RequestContext;
}

/** The throttle key of a client address (shared by everyone behind one NAT; an IPv6 client's /64). */
export function addressThrottleKey(context: RequestContext): string {
  return `addr:${rateLimitKeyForAddress(context.ip)}`;
}

export async function admitGuess(deps: Deps, subject: GuardSubject): Promise<Result<{ reserved: number | null }>> {
  const now = deps.clock();
  for (const key of [addressThrottleKey(subject.context), subject.throttleKey]) {
    const admission = await deps.store.codeThrottles.admit(key, now, deps.config.codes.throttle);
    if (!admission.admitted) return fail('code_throttled', { retryAfter: retryAfterSeconds(admission.blockedUntil, now) });
  }
  const { authenticator } = subject;
  if (!authenticator) return ok({ reserved: null });
  if (authenticator.status === 'disabled') return fail('authenticator_disabled');
  const reserved = await deps.store.authenticators.reserveGuess(authenticator.id, deps.config.codes.maxFailures);
  if (reserved === null) {
    await disableExhausted(deps, authenticator, subject.context);
    return fail('authenticator_disabled');
  }
  return ok({ reserved });
}

/** Counts a compared code; a wrong one that used up the last allowed guess disables the authenticator. */
export async function recordCheck(deps: Deps, subject: GuardSubject, check: { result: 'match' | 'mismatch' | 'replay'; reserved: number }): Promise<void> {
  deps.metrics.codeChecks.inc({ factor: subject.factor, result: check.result });
  if (check.result !== 'match' && subject.authenticator && check.reserved >= deps.config.codes.maxFailures) {
    await disableExhausted(deps, subject.authenticator, subject.context);
  }
}

/** Disables an authenticator at its limit; exactly one caller wins, audits it and tells the holder. */
async function disableExhausted(deps: Deps, authenticator: CodeAuthenticator, context: RequestContext): Promise<void> {
  const limit = deps.config.codes.maxFailures;
  if (!(await deps.store.authenticators.disableIfExhausted(authenticator.id, limit, 'too_many_failures'))) return;
  const factor = KIND_FACTOR[authenticator.kind];
  await deps.store.audit.append({
    type: 'authenticator.disabled',
    outcome: 'success',
    reason: 'too_many_failures',
    accountId: authenticator.accountId,
    context,
    at: deps.clock(),
    details: { authenticator: authenticator.id, factor, failures: limit },
  });
  deps.log.warn({ event: 'authenticator.disabled', account: authenticator.accountId, factor, failures: limit, ip: context.ip }, 'security event: a sign-in method was disabled after too many wrong codes');
  const account = await deps.store.accounts.findById(authenticator.accountId);
  if (account) await notifyHolder(deps, account, { kind: 'authenticator_disabled', factor, failures: limit }, context);
}
