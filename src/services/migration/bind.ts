import type { PasskeyEvidence } from '../../core/assurance/level.ts';
import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import type { Account, Passkey, RequestContext, Session } from '../../core/model.ts';
import type { Store } from '../../store/index.ts';
import type { Deps } from '../deps.ts';
import { announceToHolder, noticeTime } from '../devices/announce.ts';
import { endSessions } from '../sessions.ts';
import { completeSignIn, type SignedIn } from '../signIn.ts';

/**
 * The end of an imported account's move (README "Importing accounts"), modelled on the end of a
 * recovery (services/recovery/bind.ts): the passkey bound from the migration session activates the
 * account and signs in with it through `completeSignIn`, in one transaction with the passkey's own
 * writes (which delete the old password hash and retire the role's weaker factors, retire.ts) and
 * the ending of every live session of the account, the migration session included.
 */
export async function finishMigrationBinding(
  deps: Deps,
  input: {
    account: Account;
    passkey: Passkey;
    evidence: PasskeyEvidence;
    migrating: Session;
    context: RequestContext;
    store: (tx: Store) => Promise<Failure | null>;
    refuse: (failure: Failure, accountId: string | null) => Promise<Failure>;
  },
): Promise<Result<{ passkey: Passkey; signedIn: SignedIn }>> {
  const { account, passkey, migrating, context } = input;
  const now = deps.clock();
  const signedIn = await completeSignIn(deps, {
    account,
    method: 'migration_passkey',
    factors: [input.evidence],
    passkeyId: passkey.id,
    context,
    details: { migrationSession: migrating.id },
    commit: async (tx) => {
      const current = await tx.sessions.findById(migrating.id);
      if (!current || current.revokedAt !== null || current.expiresAt <= now || current.idleExpiresAt <= now) return fail('session_expired');
      const refused = await input.store(tx);
      if (refused) return refused;
      const live = await tx.sessions.listActive(account.id, now);
      const ended = await endSessions(deps, tx, { accountId: account.id, sessionIds: live.map((s) => s.id), reason: 'migrated', by: migrating.id, context, at: now });
      await tx.audit.append({
        type: 'migration.completed',
        outcome: 'success',
        accountId: account.id,
        context,
        at: now,
        details: { passkey: passkey.id, migrationSession: migrating.id, sessionsEnded: ended.length },
      });
      return null;
    },
  });
  if (!signedIn.ok) return input.refuse(signedIn, account.id);
  deps.metrics.enrolments.inc({ result: 'success' });
  const when = noticeTime(now);
  await announceToHolder(
    deps,
    account,
    {
      kind: 'migration_completed',
      subject: 'Your account now signs in with a passkey',
      text:
        `A passkey ("${passkey.nickname}") was added to your account ${account.username} at ${when} from ${context.ip}. Your old password has been deleted and no longer signs in.\n\n` +
        `If this was not you, tell your administrator at once. See ${deps.config.publicUrl}/account.`,
      short: `A passkey was added to your account at ${when}; your old password no longer works. If this was not you, tell your administrator.`,
    },
    context,
  );
  return ok({ passkey, signedIn: signedIn.value });
}
