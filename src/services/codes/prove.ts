import { FACTOR_EVIDENCE, type CodeFactor } from '../../codes/factors.ts';
import { fail, ok, type ErrorCode, type Failure, type Result } from '../../core/errors.ts';
import type { Account, CodeAttempt, CodeAuthenticator, RequestContext } from '../../core/model.ts';
import { hashSecret } from '../../core/tokens.ts';
import type { Store } from '../../store/index.ts';
import type { Deps } from '../deps.ts';
import { recordSignInFailure } from '../signIn.ts';
import { checkCode, normaliseCode, resealedSecret } from './check.ts';
import { factorUsable } from './signInStart.ts';
import { addressThrottleKey, admitGuess, recordCheck, type GuardSubject } from './guard.ts';

/** A code shown right for a live attempt: what it proved, and what must be written to spend it. */
export interface Proven {
  readonly attempt: CodeAttempt;
  readonly account: Account;
  readonly authenticator: CodeAuthenticator;
  readonly factor: CodeFactor;
  readonly step?: number;
  readonly recoveryCodeId?: string;
}

/**
 * Checks one code of a sign-in or recovery attempt, and nothing else. The order matters: the
 * attempt must be live and of this purpose; a malformed code is refused before it costs a guess;
 * then the limits (guard.ts) admit the guess before the code is compared; the role's policy and any
 * refusal recorded at delivery (a SIM change) are said only after a right code, and a disabled
 * authenticator never (it answers as a wrong code). Nothing is spent here: `spendProof` does that
 * in the transaction that issues the session. Refusals are audited as failed sign-ins.
 */
export async function proveCode(
  deps: Deps,
  input: { attemptId: string; code: string; context: RequestContext; purpose: 'sign_in' | 'recovery' },
): Promise<Result<Proven>> {
  const { context, purpose } = input;
  const now = deps.clock();
  const attempt = await deps.store.codeAttempts.find(hashSecret(input.attemptId));
  if (!attempt || attempt.purpose !== purpose) return fail('code_expired');
  const { factor } = attempt;
  const method = FACTOR_EVIDENCE[factor];
  const purposeDetail = purpose === 'recovery' ? { purpose } : {};
  const refuse = (failure: Failure, details: Record<string, unknown> = {}) =>
    recordSignInFailure(deps, failure, { method, accountId: attempt.accountId, context, details: { factor, authenticator: attempt.authenticatorId, ...purposeDetail, ...details } });
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
  const withheld = account && authenticator ? (factorUsable(deps.policies[account.role], factor, purpose) ?? (attempt.refusedReason as ErrorCode | null)) : null;

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
  return ok({
    attempt,
    account,
    authenticator,
    factor,
    ...(check.step !== undefined ? { step: check.step } : {}),
    ...(check.recoveryCodeId !== undefined ? { recoveryCodeId: check.recoveryCodeId } : {}),
  });
}

/**
 * Spends a proven code inside the transaction that issues the session: consumes the attempt, moves
 * the TOTP step forward or marks the recovery code used (each a compare-and-set, so a code works
 * once however many requests race), and clears the account's failure delay.
 */
export async function spendProof(deps: Deps, tx: Store, proven: Proven, context: RequestContext, now: number): Promise<Failure | null> {
  if (!(await tx.codeAttempts.consume(proven.attempt.idHash, now))) return fail('code_used');
  if (!(await tx.authenticators.recordUse(proven.authenticator.id, { now, ...(proven.step !== undefined ? { step: proven.step } : {}) }))) return fail('code_used');
  if (proven.recoveryCodeId && !(await tx.recoveryCodes.markUsed(proven.recoveryCodeId, now))) return fail('code_used');
  const resealed = resealedSecret(deps, proven.authenticator);
  if (resealed) await tx.authenticators.reseal(proven.authenticator.id, resealed);
  await tx.codeThrottles.reset(proven.attempt.throttleKey);
  await tx.codeThrottles.forgive(addressThrottleKey(context));
  return null;
}
