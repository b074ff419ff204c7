import { fail, ok, type Result } from '../../core/errors.ts';
import type { Passkey, RequestContext } from '../../core/model.ts';
import { authenticatorName } from '../../webauthn/aaguids.ts';
import type { Deps } from '../deps.ts';
import { passkeyChanged } from '../../ssf/events.ts';
import { requireFresh } from '../freshness.ts';
import { endPasskeyGrants } from '../grants.ts';
import type { ActiveSession } from '../sessions.ts';

/** What the account page and the API show of a passkey: never the key itself. */
export interface PasskeySummary {
  readonly id: string;
  readonly nickname: string;
  readonly kind: 'device-bound' | 'syncable';
  readonly backedUp: boolean;
  readonly authenticator: string | null;
  readonly aaguid: string;
  readonly attestationTrusted: boolean;
  readonly userVerified: boolean;
  readonly status: Passkey['status'];
  readonly flaggedReason: string | null;
  readonly transports: readonly string[];
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
}

export function summarisePasskey(p: Passkey): PasskeySummary {
  return {
    id: p.id,
    nickname: p.nickname,
    kind: p.backupEligible ? 'syncable' : 'device-bound',
    backedUp: p.backupState,
    authenticator: authenticatorName(p.aaguid),
    aaguid: p.aaguid,
    attestationTrusted: p.attestationTrusted,
    userVerified: p.userVerified,
    status: p.status,
    flaggedReason: p.flaggedReason,
    transports: p.transports,
    createdAt: new Date(p.createdAt).toISOString(),
    lastUsedAt: p.lastUsedAt === null ? null : new Date(p.lastUsedAt).toISOString(),
  };
}

export async function listPasskeys(deps: Deps, accountId: string): Promise<PasskeySummary[]> {
  return (await deps.store.passkeys.listByAccount(accountId)).map(summarisePasskey);
}

export async function renamePasskey(deps: Deps, active: ActiveSession, id: string, nickname: string, context: RequestContext): Promise<Result<null>> {
  const now = deps.clock();
  const renamed = await deps.store.transaction(async (tx) => {
    if (!(await tx.passkeys.rename(active.account.id, id, nickname))) return false;
    await tx.audit.append({ type: 'passkey.renamed', outcome: 'success', accountId: active.account.id, context, at: now, details: { passkey: id } });
    return true;
  });
  return renamed ? ok(null) : fail('passkey_not_found');
}

/**
 * Removes a passkey, but never the last active one: an account without a usable passkey could not
 * sign in again. Needs a fresh sign-in, like any change to authenticators. The sessions that passkey
 * signed in end with it (except the one asking).
 */
export async function removePasskey(deps: Deps, active: ActiveSession, id: string, context: RequestContext): Promise<Result<null>> {
  const fresh = await requireFresh(deps, active);
  if (!fresh.ok) return fresh;
  const now = deps.clock();
  return deps.store.transaction(async (tx) => {
    await tx.accounts.lock(active.account.id);
    const passkey = await tx.passkeys.findById(id);
    if (!passkey || passkey.accountId !== active.account.id) return fail('passkey_not_found');
    if (passkey.status === 'active' && (await tx.passkeys.countActive(active.account.id)) <= 1) return fail('passkey_last_one');
    await tx.passkeys.remove(active.account.id, id);
    await passkeyChanged(deps, tx, { accountId: active.account.id, passkey, change: 'delete', by: 'user', at: now });
    // A passkey removed because its device was lost must not leave that device signed in.
    const revokedSessions = await tx.sessions.revokeByPasskey(active.account.id, id, now, active.session.id);
    // ...nor an application holding a refresh token it made (offline_access too: services/grants.ts).
    const endedGrants = await endPasskeyGrants(tx, id);
    await tx.audit.append({ type: 'passkey.removed', outcome: 'success', accountId: active.account.id, context, at: now, details: { passkey: id, nickname: passkey.nickname, revokedSessions, endedGrants } });
    return ok(null);
  });
}
