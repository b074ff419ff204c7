import { fail, ok, type Result } from '../core/errors.ts';
import type { RequestContext } from '../core/model.ts';
import { hashSecret } from '../core/tokens.ts';
import type { GrantSessionRow, Store } from '../store/ports.ts';
import type { Deps } from './deps.ts';
import { requireFresh } from './freshness.ts';
import type { ActiveSession } from './sessions.ts';

/**
 * OpenID grants end with the Keybound session that made them (issue 10, finding 6; DESIGN.md
 * principle 6). Every grant is bound, when its authorization code is issued, to the Keybound
 * session behind the browser (oidc/grantBinding.ts). Ending that session (sign-out, revocation),
 * removing or flagging its passkey, or changing the account's state deletes the grant with its
 * refresh tokens, opaque access tokens and codes, and the provider session, in the caller's
 * transaction; every instance reads the same rows, so it holds everywhere at once. Refresh and
 * introspection check the binding again (`grantAlive`), so a binding that outlived its session by
 * any path still answers no.
 *
 * `offline_access` grants are the one exception: they outlive the session (that is what the scope
 * asks for, OpenID Connect Core §11) but end with the passkey that made them and with any change
 * to the account's state.
 */

/** oidc-provider's models that hang off a grant (what its own revoke() deletes). */
const GRANT_MODELS = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest'] as const;

/** Deletes a grant: every token of it, the grant itself and its bindings. */
export async function revokeGrant(store: Store, grantId: string): Promise<void> {
  for (const model of GRANT_MODELS) await store.oidcPayloads.revokeByGrantId(model, grantId);
  await store.oidcPayloads.destroy('Grant', hashSecret(grantId));
  await store.oidcGrantSessions.forgetGrants([grantId]);
}

/** Ends the grants of these bindings and the provider sessions they ran in; returns how many grants. */
async function endBindings(store: Store, grants: readonly GrantSessionRow[], providerSessions: readonly GrantSessionRow[]): Promise<number> {
  const grantIds = [...new Set(grants.map((b) => b.grantId))];
  for (const grantId of grantIds) await revokeGrant(store, grantId);
  for (const uid of new Set(providerSessions.map((b) => b.providerSessionUid))) {
    if (uid) await store.oidcPayloads.destroyByUid('Session', uid);
  }
  return grantIds.length;
}

/**
 * Sign-out or revocation of Keybound sessions: their grants (but `offline_access` ones) and their
 * single sign-on at the provider end. Call inside the transaction that revokes the sessions.
 */
export async function endSessionGrants(store: Store, sessionIds: readonly string[]): Promise<number> {
  const bindings = await store.oidcGrantSessions.findBySessions(sessionIds);
  return endBindings(
    store,
    bindings.filter((b) => !b.offline),
    bindings,
  );
}

/**
 * A sign-in in the same browser replaced `fromSessionId` with `toSessionId` (OWASP ASVS 7.2.4): that
 * is a new authentication of the same account, not a revocation, so the grants the browser made
 * carry on under the new session (and end with it, or with the passkey that made them). Ending them
 * instead would also end the provider session of a step-up in progress, the very sign-in asking.
 */
export async function moveSessionGrants(store: Store, fromSessionId: string, toSessionId: string): Promise<number> {
  return store.oidcGrantSessions.moveSession(fromSessionId, toSessionId);
}

/** A passkey removed or flagged: every grant it made ends, `offline_access` ones too. */
export async function endPasskeyGrants(store: Store, passkeyId: string): Promise<number> {
  const bindings = await store.oidcGrantSessions.findByPasskey(passkeyId);
  return endBindings(store, bindings, bindings);
}

/**
 * Any change to an account's state (suspend, offboard, reactivate): every grant, token and
 * provider session of the account ends, `offline_access` included. For the lifecycle paths; call
 * inside the transaction that changes the status.
 */
export async function endAccountGrants(store: Store, accountId: string): Promise<number> {
  const bindings = await store.oidcGrantSessions.findByAccount(accountId);
  await store.oidcPayloads.revokeByAccount(accountId);
  await store.oidcGrantSessions.forgetGrants([...new Set(bindings.map((b) => b.grantId))]);
  return bindings.length;
}

/**
 * Whether a grant may still be used (refresh, token redemption, introspection, userinfo): it is
 * bound to at least one Keybound session, and every binding still holds. A session binding holds
 * while the session is neither revoked nor past its absolute limit; an `offline_access` binding
 * while the passkey that made it is active. Either needs the account active.
 */
export async function grantAlive(store: Store, grantId: string, now: number): Promise<boolean> {
  const bindings = await store.oidcGrantSessions.findByGrant(grantId);
  if (bindings.length === 0) return false;
  for (const b of bindings) {
    const account = await store.accounts.findById(b.accountId);
    if (!account || account.status !== 'active') return false;
    if (b.passkeyId !== null) {
      const passkey = await store.passkeys.findById(b.passkeyId);
      if (!passkey || passkey.status !== 'active') return false;
    }
    if (b.offline) continue;
    const session = await store.sessions.findById(b.sessionId);
    if (!session || session.revokedAt !== null || session.expiresAt <= now) return false;
  }
  return true;
}

/** A grant as its holder sees it (Connected apps on /account, `GET /api/v1/grants`). */
export interface GrantSummary {
  readonly id: string;
  readonly clientId: string;
  readonly clientName: string;
  /** OpenID scopes granted (`openid`, `profile`, `email`, `offline_access`). */
  readonly scopes: readonly string[];
  /** APIs granted, each with its scopes. */
  readonly resources: readonly { readonly resource: string; readonly scopes: readonly string[] }[];
  readonly createdAt: string;
  /** The last time the application was given a code under this grant (a sign-in to it). */
  readonly lastUsedAt: string;
}

/** The part of oidc-provider's Grant payload shown to its holder. */
interface GrantPayload {
  readonly accountId?: string;
  readonly clientId?: string;
  readonly openid?: { readonly scope?: string };
  readonly resources?: Record<string, string>;
}

/**
 * The account's live grants (OWASP ASVS 5.0 10.7.3): every grant bound to it whose bindings still
 * hold (`grantAlive`), newest use first. A grant bound to an ended session is not listed: it is
 * already unusable, and ends with the next housekeeping.
 */
export async function listGrants(deps: Deps, active: ActiveSession): Promise<GrantSummary[]> {
  const now = deps.clock();
  const bindings = await deps.store.oidcGrantSessions.findByAccount(active.account.id);
  const byGrant = new Map<string, GrantSessionRow[]>();
  for (const b of bindings) byGrant.set(b.grantId, [...(byGrant.get(b.grantId) ?? []), b]);
  const names = new Map<string, string>();
  const out: GrantSummary[] = [];
  for (const [grantId, rows] of byGrant) {
    if (!(await grantAlive(deps.store, grantId, now))) continue;
    const stored = await deps.store.oidcPayloads.find('Grant', hashSecret(grantId), now);
    if (!stored) continue;
    const grant = JSON.parse(stored.payload) as GrantPayload;
    if (grant.accountId !== active.account.id || !grant.clientId) continue;
    if (!names.has(grant.clientId)) names.set(grant.clientId, (await deps.store.oidcClients.find(grant.clientId))?.name ?? grant.clientId);
    const split = (scope: string | undefined) => (scope ?? '').split(' ').filter(Boolean);
    const times = rows.map((r) => r.createdAt);
    out.push({
      id: grantId,
      clientId: grant.clientId,
      clientName: names.get(grant.clientId)!,
      scopes: split(grant.openid?.scope),
      resources: Object.entries(grant.resources ?? {}).map(([resource, scope]) => ({ resource, scopes: split(scope) })),
      createdAt: new Date(Math.min(...times)).toISOString(),
      lastUsedAt: new Date(Math.max(...times)).toISOString(),
    });
  }
  return out.sort((a, b) => b.lastUsedAt.localeCompare(a.lastUsedAt));
}

/**
 * The holder ends one of their grants (OWASP ASVS 5.0 10.4.9, 10.7.3): the grant, its refresh
 * tokens, opaque access tokens and codes (`revokeGrant`), in one transaction with its audit event.
 * JWT access tokens already issued cannot be recalled and live until they expire
 * (KEYBOUND_OIDC_ACCESS_TOKEN_TTL). Needs a fresh sign-in, like ending another session. Someone
 * else's grant, or none, is `grant_not_found`.
 */
export async function deleteGrant(deps: Deps, active: ActiveSession, grantId: string, context: RequestContext): Promise<Result<null>> {
  const fresh = await requireFresh(deps, active);
  if (!fresh.ok) return fresh;
  const bindings = await deps.store.oidcGrantSessions.findByGrant(grantId);
  if (bindings.length === 0 || bindings.some((b) => b.accountId !== active.account.id)) return fail('grant_not_found');
  const at = deps.clock();
  const stored = await deps.store.oidcPayloads.find('Grant', hashSecret(grantId), at);
  const clientId = stored ? ((JSON.parse(stored.payload) as GrantPayload).clientId ?? null) : null;
  await deps.store.transaction(async (tx) => {
    await revokeGrant(tx, grantId);
    await tx.audit.append({ type: 'oidc.grant.revoked', outcome: 'success', accountId: active.account.id, context, at, details: { grant: grantId, clientId, by: active.session.id } });
  });
  return ok(null);
}
