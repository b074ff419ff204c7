import { deliveredCodeHash, randomDigits } from '../../codes/delivered.ts';
import { FACTOR_KIND, isDelivered, type CodeFactor } from '../../codes/factors.ts';
import { fail, ok, type Result } from '../../core/errors.ts';
import type { RequestContext } from '../../core/model.ts';
import { codeFactorAllowed, type RolePolicy } from '../../core/policy.ts';
import type { ErrorCode } from '../../core/errors.ts';
import { hashSecret } from '../../core/tokens.ts';
import type { Deps } from '../deps.ts';
import { checkRateLimit } from '../rateLimit.ts';
import { accountThrottleKey, newAttemptId, usernameTag } from './attempts.ts';
import { deliverCode, simRecentlyChanged } from './deliver.ts';
import { padLikeSend, timed } from './pace.ts';

/**
 * Starts a sign-in with a one-time code: records an attempt and, for SMS and email, sends a code
 * bound to it. The answer is the same attempt id whatever the username: unknown, without the
 * factor, or with a factor its role forbids (that is said only once a code is entered, and only
 * to someone holding the factor). Sends are limited per username and factor, for every username,
 * so the limit reveals nothing either.
 */
export async function startCodeSignIn(
  deps: Deps,
  input: { username: string; factor: CodeFactor; context: RequestContext; purpose?: 'sign_in' | 'recovery' },
): Promise<Result<{ attemptId: string }>> {
  const { factor, context } = input;
  const purpose = input.purpose ?? 'sign_in';
  const username = input.username.trim().toLowerCase();
  const now = deps.clock();
  if (isDelivered(factor)) {
    const limited = await checkRateLimit(deps, `code-send:${purpose === 'recovery' ? 'recovery:' : ''}${factor}:${usernameTag(deps, username)}`, { max: deps.config.codes.maxSends, windowMs: deps.config.codes.ttlMs });
    if (!limited.ok) return fail('code_send_limit', limited.retryAfter !== undefined ? { retryAfter: limited.retryAfter } : {});
  }
  const found = await deps.store.accounts.findByUsername(username);
  const account = found?.status === 'active' ? found : undefined;
  const authenticator = account ? await deps.store.authenticators.findBound(account.id, FACTOR_KIND[factor]) : undefined;
  const usable = account && authenticator?.status === 'active' && factorUsable(deps.policies[account.role], factor, purpose) === null;

  const attemptId = newAttemptId(deps);
  let codeHash: string | null = null;
  let refusedReason: string | null = null;
  if (usable && isDelivered(factor) && authenticator.destination) {
    const code = randomDigits(deps.random, deps.config.codes.digits);
    codeHash = deliveredCodeHash(attemptId, code);
    const sent = await timed(deps, factor, () => deliverCode(deps, { channel: factor, to: authenticator.destination!, code, purpose }));
    const audit = { accountId: account.id, context, at: now };
    if (!sent.ok) {
      await deps.store.audit.append({ type: 'code.delivery', outcome: 'failure', reason: sent.reason, ...audit, details: { factor, authenticator: authenticator.id } });
    } else if (factor === 'sms' && simRecentlyChanged(deps, sent.simChangedAt)) {
      // NIST SP 800-63B-4 §3.1.3.3: the verifier SHOULD consider risk indicators such as a SIM
      // change before using a phone number. The code was sent, but no code of this attempt counts.
      refusedReason = 'sms_sim_changed';
      await deps.store.audit.append({
        type: 'code.delivery',
        outcome: 'failure',
        reason: refusedReason,
        ...audit,
        details: { factor, authenticator: authenticator.id, simChangedAt: new Date(sent.simChangedAt!).toISOString() },
      });
    } else {
      await deps.store.audit.append({ type: 'code.delivery', outcome: 'success', ...audit, details: { factor, authenticator: authenticator.id } });
    }
  }
  if (isDelivered(factor) && codeHash === null) await padLikeSend(deps, factor);
  await deps.store.codeAttempts.create({
    idHash: hashSecret(attemptId),
    purpose,
    factor,
    accountId: account?.id ?? null,
    authenticatorId: authenticator?.id ?? null,
    throttleKey: accountThrottleKey(deps, account, username),
    codeHash,
    refusedReason,
    createdAt: now,
    expiresAt: now + deps.config.codes.ttlMs,
    consumedAt: null,
  });
  return ok({ attemptId });
}

/**
 * Whether the factor may be used for the purpose: a sign-in by the role's code factors; a recovery
 * by its recovery policy (a saved recovery code, or a factor it takes as the second proof).
 */
export function factorUsable(policy: RolePolicy, factor: CodeFactor, purpose: 'sign_in' | 'recovery'): ErrorCode | null {
  if (purpose === 'sign_in') return codeFactorAllowed(policy, factor);
  if (!policy.recovery.enabled) return 'recovery_not_allowed';
  return factor === 'recovery' || policy.recovery.proofs.includes(factor) ? null : 'recovery_not_allowed';
}
