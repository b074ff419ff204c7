import { fail, ok, type Result } from '../../core/errors.ts';
import type { Passkey, RequestContext } from '../../core/model.ts';
import type { Deps } from '../deps.ts';
import { passkeyChanged } from '../../ssf/events.ts';
import { requireFresh } from '../freshness.ts';
import { endPasskeyGrants } from '../grants.ts';
import { endSessions, type ActiveSession } from '../sessions.ts';
import { announceToHolder, noticeTime } from './announce.ts';

export interface LostReport {
  readonly passkey: Passkey;
  readonly endedSessions: readonly string[];
  readonly endedGrants: number;
}

/**
 * Lost device: removes the passkey and, in the same transaction, ends every session it signed in
 * (through `endSessions`, the one ending, which ends their OpenID grants too) and every grant it
 * made, `offline_access` ones included (`endPasskeyGrants`); a device link issued from it stops
 * working (services/devices/linkChecks.ts). Reported from a fresh session of another passkey: the
 * device that is lost cannot vouch for its own report (`passkey_lost_own_session`), and whoever holds
 * it could otherwise end the holder's other sessions. Someone else's passkey is not found (404).
 */
export async function reportLostPasskey(deps: Deps, active: ActiveSession, passkeyId: string, context: RequestContext): Promise<Result<LostReport>> {
  const fresh = await requireFresh(deps, active);
  if (!fresh.ok) return fresh;
  const { account, session } = active;
  const now = deps.clock();
  const result = await deps.store.transaction(async (tx): Promise<Result<LostReport>> => {
    await tx.accounts.lock(account.id);
    const passkey = await tx.passkeys.findById(passkeyId);
    if (!passkey || passkey.accountId !== account.id) return fail('passkey_not_found');
    if (session.passkeyId === passkey.id) return fail('passkey_lost_own_session');
    // The session asking signed in with another, active passkey (requireFresh), so one remains.
    const signedIn = (await tx.sessions.listActive(account.id, now)).filter((s) => s.passkeyId === passkey.id);
    const endedSessions = await endSessions(deps, tx, { accountId: account.id, sessionIds: signedIn.map((s) => s.id), reason: 'passkey_lost', by: session.id, context, at: now });
    const endedGrants = await endPasskeyGrants(tx, passkey.id);
    await tx.passkeys.remove(account.id, passkey.id);
    // Reported lost: in someone else's hands, perhaps, so `revoke` rather than `delete`.
    await passkeyChanged(deps, tx, { accountId: account.id, passkey, change: 'revoke', by: 'user', at: now });
    await tx.audit.append({
      type: 'passkey.lost',
      outcome: 'success',
      accountId: account.id,
      context,
      at: now,
      details: { passkey: passkey.id, nickname: passkey.nickname, by: session.id, endedSessions, endedGrants },
    });
    return ok({ passkey, endedSessions, endedGrants });
  });
  if (!result.ok) return result;
  const at = noticeTime(now);
  const { passkey, endedSessions } = result.value;
  await announceToHolder(
    deps,
    account,
    {
      kind: 'passkey_lost',
      subject: 'A passkey was reported lost and removed',
      text: `The passkey "${passkey.nickname}" was reported lost at ${at} from ${context.ip} and removed from your account. ${endedSessions.length} ${endedSessions.length === 1 ? 'session' : 'sessions'} it had signed in, and every application access it had given, ended with it.\n\nIf this was not you, sign in with your passkey at ${deps.config.publicUrl}/account, check your passkeys and sessions, and tell your administrator.`,
      short: `Passkey "${passkey.nickname}" reported lost and removed at ${at}; its sessions ended. Not you? Check ${deps.config.publicUrl}/account`,
    },
    context,
  );
  return result;
}
