import { FACTOR_EVIDENCE, type CodeFactor } from '../../codes/factors.ts';
import { fail, ok, type Result } from '../../core/errors.ts';
import type { Account, RequestContext } from '../../core/model.ts';
import type { Deps } from '../deps.ts';
import { announceToHolder, noticeTime } from '../devices/announce.ts';
import { proveCode, spendProof, type Proven } from '../codes/prove.ts';
import { startCodeSignIn } from '../codes/signInStart.ts';
import { completeSignIn, recordSignInFailure, type SignedIn } from '../signIn.ts';

/**
 * Self-service recovery (README "Recovery"; NIST SP 800-63B-4 §4.2.1). A saved recovery code, and
 * for a role that asks for one a second, independent proof (a code from an authenticator app still
 * bound, or one sent to a verified phone or email address), open a *recovery session*: it can only
 * bind a new passkey and see and end sessions (http/gates.ts `admit`). Binding the passkey is what
 * signs in (services/recovery/bind.ts). It reuses the code sign-in's machinery throughout: the
 * attempts, the delivery, the limits in front of every guess (guard.ts) and `completeSignIn`.
 */

/** Starts one proof of a recovery: answers alike for any username, and sends the code for `sms` and `email`. */
export function startRecovery(deps: Deps, input: { username: string; factor: CodeFactor; context: RequestContext }): Promise<Result<{ attemptId: string }>> {
  return startCodeSignIn(deps, { ...input, purpose: 'recovery' });
}

export interface Recovering extends SignedIn {
  readonly recoveryCodesLeft: number;
}

/**
 * Finishes a recovery: the recovery code and, if given, the second proof are each proven through
 * the code limits; both must be of the same account and of different kinds (a second recovery code
 * is the same thing known twice, not an independent proof). `completeSignIn` then applies the
 * role's recovery policy and, in one transaction, spends both proofs and writes the recovery
 * session. A right recovery code without the proof its role needs spends nothing and answers
 * `recovery_proof_required`.
 */
export async function verifyRecovery(
  deps: Deps,
  input: { attemptId: string; code: string; proof?: { attemptId: string; code: string } | undefined; context: RequestContext; presentedSessionId?: string | null },
): Promise<Result<Recovering>> {
  const { context } = input;
  const now = deps.clock();
  const first = await proveCode(deps, { attemptId: input.attemptId, code: input.code, context, purpose: 'recovery' });
  if (!first.ok) return first;
  const refuse = (reason: string) =>
    recordSignInFailure(deps, fail('recovery_proof_required'), { method: 'recovery_code', accountId: first.value.account.id, context, details: { purpose: 'recovery', reason } });
  if (first.value.factor !== 'recovery') return refuse('first_proof_not_a_recovery_code');
  const proofs: Proven[] = [first.value];
  if (input.proof) {
    if (input.proof.attemptId === input.attemptId) return refuse('same_attempt_twice');
    const second = await proveCode(deps, { attemptId: input.proof.attemptId, code: input.proof.code, context, purpose: 'recovery' });
    if (!second.ok) return second;
    // Independent: another account's proof, or the same factor twice, proves nothing more.
    if (second.value.account.id !== first.value.account.id) return refuse('proof_of_another_account');
    if (second.value.authenticator.id === first.value.authenticator.id) return refuse('same_authenticator_twice');
    proofs.push(second.value);
  }
  const account = first.value.account;
  const signedIn = await completeSignIn(deps, {
    account,
    method: 'recovery_code',
    purpose: 'recovery',
    factors: proofs.map((p) => ({ kind: FACTOR_EVIDENCE[p.factor] })),
    passkeyId: null,
    context,
    presentedSessionId: input.presentedSessionId ?? null,
    details: { factors: proofs.map((p) => p.factor), authenticators: proofs.map((p) => p.authenticator.id) },
    commit: async (tx) => {
      for (const proven of proofs) {
        const refused = await spendProof(deps, tx, proven, context, now);
        if (refused) return refused;
      }
      await tx.audit.append({
        type: 'recovery.session_started',
        outcome: 'success',
        accountId: account.id,
        context,
        at: now,
        details: { factors: proofs.map((p) => p.factor) },
      });
      return null;
    },
  });
  if (!signedIn.ok) return signedIn;
  const remaining = await deps.store.recoveryCodes.countUnused(first.value.authenticator.id);
  deps.log.warn({ event: 'recovery.session_started', account: account.id, ip: context.ip, remaining }, 'security event: an account opened a recovery session with a recovery code');
  // DESIGN.md principle 5: every recovery is announced to the holder, on every bound channel.
  await announceToHolder(deps, account, recoveryStartedNotice(deps, account, context, remaining), context);
  return ok({ ...signedIn.value, recoveryCodesLeft: remaining });
}

function recoveryStartedNotice(deps: Deps, account: Account, context: RequestContext, remaining: number) {
  const when = noticeTime(deps.clock());
  return {
    kind: 'recovery_started',
    subject: 'A recovery code was used on your account',
    text:
      `A recovery code was used at ${when} from ${context.ip} to start recovering the account ${account.username}. ${remaining} unused codes are left.\n\n` +
      `If this was you, add your new passkey now; your other sessions will end. If it was not, sign in with your passkey at ${deps.config.publicUrl}/account, ` +
      'make a new set of recovery codes (which replaces every old one), and tell your administrator.',
    short: `A recovery code was used at ${when}. If this was not you, tell your administrator.`,
  };
}
