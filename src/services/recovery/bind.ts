import type { PasskeyEvidence } from '../../core/assurance/level.ts';
import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import type { Account, Passkey, RequestContext, Session } from '../../core/model.ts';
import type { Store } from '../../store/index.ts';
import type { Deps } from '../deps.ts';
import { announceToHolder, noticeTime } from '../devices/announce.ts';
import { endSessions } from '../sessions.ts';
import { completeSignIn, type SignedIn } from '../signIn.ts';

/**
 * The end of a self-service recovery (README "Recovery"): the passkey bound from a recovery session
 * signs in, as an enrolment does, through `completeSignIn`, in one transaction with the passkey's
 * own writes and the ending of every live session of the account (the recovery session included;
 * reason `recovered`), so whoever held a session before the recovery holds none after it. The
 * holder is told on every bound channel, and the audit event `recovery.completed` is what
 * /account shows (when and from where).
 */
export async function finishRecoveryBinding(
  deps: Deps,
  input: {
    account: Account;
    passkey: Passkey;
    evidence: PasskeyEvidence;
    recovering: Session;
    context: RequestContext;
    /** The registration's own writes (registration.ts): insert the passkey, audit it. */
    store: (tx: Store) => Promise<Failure | null>;
    refuse: (failure: Failure, accountId: string | null) => Promise<Failure>;
  },
): Promise<Result<{ passkey: Passkey; signedIn: SignedIn }>> {
  const { account, passkey, recovering, context } = input;
  const now = deps.clock();
  const signedIn = await completeSignIn(deps, {
    account,
    method: 'recovery_passkey',
    factors: [input.evidence],
    passkeyId: passkey.id,
    context,
    details: { recoverySession: recovering.id },
    commit: async (tx) => {
      // The recovery session must still be live now, under the account lock completeSignIn holds.
      const current = await tx.sessions.findById(recovering.id);
      if (!current || current.revokedAt !== null || current.expiresAt <= now || current.idleExpiresAt <= now) return fail('session_expired');
      const refused = await input.store(tx);
      if (refused) return refused;
      const live = await tx.sessions.listActive(account.id, now);
      const ended = await endSessions(deps, tx, { accountId: account.id, sessionIds: live.map((s) => s.id), reason: 'recovered', by: recovering.id, context, at: now });
      await tx.audit.append({
        type: 'recovery.completed',
        outcome: 'success',
        accountId: account.id,
        context,
        at: now,
        details: { passkey: passkey.id, recoverySession: recovering.id, sessionsEnded: ended.length },
      });
      return null;
    },
  });
  if (!signedIn.ok) return input.refuse(signedIn, account.id);
  deps.metrics.enrolments.inc({ result: 'success' });
  deps.log.warn({ event: 'recovery.completed', account: account.id, ip: context.ip, passkey: passkey.id }, 'security event: a passkey was bound through recovery');
  const when = noticeTime(now);
  await announceToHolder(
    deps,
    account,
    {
      kind: 'recovery_completed',
      subject: 'Your account was recovered with a new passkey',
      text:
        `A new passkey ("${passkey.nickname}") was added to your account ${account.username} through recovery at ${when} from ${context.ip}, and every other session of the account was signed out.\n\n` +
        `If this was not you, tell your administrator at once: they can suspend the account and remove the passkey. See ${deps.config.publicUrl}/account.`,
      short: `A new passkey was added through recovery at ${when}; other sessions were signed out. If this was not you, tell your administrator.`,
    },
    context,
  );
  return ok({ passkey, signedIn: signedIn.value });
}
