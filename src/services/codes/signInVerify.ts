import { FACTOR_EVIDENCE, nistAccepted, type CodeFactor } from '../../codes/factors.ts';
import type { Result } from '../../core/errors.ts';
import type { RequestContext } from '../../core/model.ts';
import type { Deps } from '../deps.ts';
import { completeSignIn, type SignedIn } from '../signIn.ts';
import { proveCode, spendProof } from './prove.ts';

export interface CodeSignedIn extends SignedIn {
  readonly factor: CodeFactor;
}

/**
 * Finishes a code sign-in: the code is proven (prove.ts: attempt, limits, comparison, withheld
 * refusals), then signs in through `completeSignIn`, which spends it in the same transaction as
 * the session is written. Recovery codes never get here as a sign-in (core/policy.ts
 * `codeFactorAllowed`): they open a recovery session (services/recovery/selfService.ts).
 *
 * The result is AAL1 with RFC 8176 `amr` (`otp`, `sms`): it never meets a request for AAL2.
 */
export async function verifyCodeSignIn(
  deps: Deps,
  input: { attemptId: string; code: string; context: RequestContext; presentedSessionId?: string | null },
): Promise<Result<CodeSignedIn>> {
  const { context } = input;
  const now = deps.clock();
  const proven = await proveCode(deps, { ...input, purpose: 'sign_in' });
  if (!proven.ok) return proven;
  const { account, authenticator, factor } = proven.value;
  const method = FACTOR_EVIDENCE[factor];
  const signedIn = await completeSignIn(deps, {
    account,
    method,
    factors: [{ kind: method }],
    passkeyId: null,
    context,
    presentedSessionId: input.presentedSessionId ?? null,
    details: { factor, authenticator: authenticator.id, ...(nistAccepted(factor) ? {} : { nist: 'email codes are not an authenticator NIST SP 800-63B-4 accepts' }) },
    commit: (tx) => spendProof(deps, tx, proven.value, context, now),
  });
  if (!signedIn.ok) return signedIn;
  return { ok: true, value: { ...signedIn.value, factor } };
}
