import { FACTOR_EVIDENCE, nistAccepted, type CodeFactor } from '../../codes/factors.ts';
import { fail, type ErrorCode, type Failure, type Result } from '../../core/errors.ts';
import type { RequestContext } from '../../core/model.ts';
import { codeFactorAllowed } from '../../core/policy.ts';
import { hashSecret } from '../../core/tokens.ts';
import type { Deps } from '../deps.ts';
import { completeSignIn, recordSignInFailure, type SignedIn } from '../signIn.ts';
import { checkCode, normaliseCode, resealedSecret } from './check.ts';
import { admitGuess, recordCheck, type GuardSubject, addressThrottleKey } from './guard.ts';
import { notifyHolder } from './notify.ts';

export interface CodeSignedIn extends SignedIn {
  readonly factor: CodeFactor;
  /** Recovery codes left after this one (recovery-code sign-ins only). */
  readonly recoveryCodesLeft?: number;
}

/**
 * Finishes a code sign-in. The order matters: the attempt must be live; a malformed code is
 * refused before it costs a guess; then the limits (guard.ts) admit the guess before the code is
 * compared; the role's policy and any refusal recorded at delivery (a SIM change) are said only
 * after a right code, and a disabled authenticator never (it answers as a wrong code). A
 * right code signs in through `completeSignIn`, which in one transaction consumes the attempt,
 * moves the TOTP step forward or marks the recovery code used (each a compare-and-set, so a code
 * works once however many requests race), and clears the account's failure delay.
 *
 * The result is AAL1 with RFC 8176 `amr` (`otp`, `sms`): it never meets a request for AAL2.
 */
export async function verifyCodeSignIn(
  deps: Deps,
  input: { attemptId: string; code: string; context: RequestContext; presentedSessionId?: string | null },
): Promise<Result<CodeSignedIn>> {
  const { context } = input;
  const now = deps.clock();
  const attempt = await deps.store.codeAttempts.find(hashSecret(input.attemptId));
  if (!attempt || attempt.purpose !== 'sign_in') return fail('code_expired');
  const { factor } = attempt;
  const method = FACTOR_EVIDENCE[factor];
  const refuse = (failure: Failure, details: Record<string, unknown> = {}) =>
    recordSignInFailure(deps, failure, { method, accountId: attempt.accountId, context, details: { factor, authenticator: attempt.authenticatorId, ...details } });
  if (attempt.consumedAt !== null) return refuse(fail('code_used'));
  if (attempt.expiresAt <= now) return refuse(fail('code_expired'));

  const account = attempt.accountId ? await deps.store.accounts.findById(attempt.accountId) : undefined;
  const found = attempt.authenticatorId ? await deps.store.authenticators.findById(attempt.authenticatorId) : undefined;
  const authenticator = account && found && found.accountId === account.id ? found : null;
  const code = normaliseCode(deps, factor, authenticator, input.code);
  if (code === null) return refuse(fail('code_malformed'));
  // Anyone can type a well-formed code, so until a right one shows possession of the factor, a
  // factor the role forbids, a SIM change and a disabled authenticator all answer as a wrong code
  // for a username nobody has would: `code_invalid`. The real reason goes to the audit trail only.
  const withheld = account && authenticator ? (codeFactorAllowed(deps.policies[account.role], factor) ?? (attempt.refusedReason as ErrorCode | null)) : null;

  const subject: GuardSubject = { factor, authenticator, throttleKey: attempt.throttleKey, accountId: attempt.accountId, context };
  const admitted = await admitGuess(deps, subject);
  if (!admitted.ok && admitted.code === 'authenticator_disabled') {
    // No code is compared once the limit is reached (NIST SP 800-63B-4 §3.2.2), so possession is
    // never shown: the holder learns of it from the notice sent when it was disabled.
    return refuse(fail('code_invalid'), { checked: false, withheld: 'authenticator_disabled' });
  }
  if (!admitted.ok) return refuse(admitted);
  const reserved = admitted.value.reserved;
  if (!account || !authenticator || reserved === null) return refuse(fail('code_invalid'), { checked: false });

  // A forbidden factor's or a SIM-changed attempt's code is compared like any other, and the
  // guess counted first: the specific refusal is said only to someone who typed the right code.
  const check = await checkCode(deps, { factor, authenticator, code, attempt: { id: input.attemptId, codeHash: attempt.codeHash } });
  await recordCheck(deps, subject, { result: check.result, reserved });
  const withheldDetail = withheld ? { withheld } : {};
  if (check.result !== 'match') return refuse(fail(check.result === 'replay' && !withheld ? 'code_used' : 'code_invalid'), { checked: true, failures: reserved, ...withheldDetail });
  if (withheld) return refuse(fail(withheld), { checked: true });

  const signedIn = await completeSignIn(deps, {
    account,
    method,
    factors: [{ kind: method }],
    passkeyId: null,
    context,
    presentedSessionId: input.presentedSessionId ?? null,
    details: { factor, authenticator: authenticator.id, ...(nistAccepted(factor) ? {} : { nist: 'email codes are not an authenticator NIST SP 800-63B-4 accepts' }) },
    commit: async (tx) => {
      if (!(await tx.codeAttempts.consume(attempt.idHash, now))) return fail('code_used');
      if (!(await tx.authenticators.recordUse(authenticator.id, { now, ...(check.step !== undefined ? { step: check.step } : {}) }))) return fail('code_used');
      if (check.recoveryCodeId && !(await tx.recoveryCodes.markUsed(check.recoveryCodeId, now))) return fail('code_used');
      const resealed = resealedSecret(deps, authenticator);
      if (resealed) await tx.authenticators.reseal(authenticator.id, resealed);
      await tx.codeThrottles.reset(attempt.throttleKey);
      await tx.codeThrottles.forgive(addressThrottleKey(context));
      return null;
    },
  });
  if (!signedIn.ok) return signedIn;
  if (factor !== 'recovery') return { ok: true, value: { ...signedIn.value, factor } };
  // DESIGN.md principle 5: recovery is audited and announced to the holder.
  const remaining = await deps.store.recoveryCodes.countUnused(authenticator.id);
  await deps.store.audit.append({ type: 'recovery_code.used', outcome: 'success', accountId: account.id, context, at: now, details: { authenticator: authenticator.id, remaining } });
  deps.log.warn({ event: 'recovery_code.used', account: account.id, ip: context.ip, remaining }, 'security event: an account signed in with a recovery code');
  await notifyHolder(deps, account, { kind: 'recovery_code_used', remaining }, context);
  return { ok: true, value: { ...signedIn.value, factor, recoveryCodesLeft: remaining } };
}
