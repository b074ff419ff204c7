import { fail, ok, type Result } from '../../core/errors.ts';
import type { RequestContext } from '../../core/model.ts';
import type { Deps } from '../deps.ts';
import { requireFresh } from '../freshness.ts';
import type { ActiveSession } from '../sessions.ts';
import { createApiKey, listApiKeys, revokeApiKey, rotateApiKey, type ApiKeyDetails, type CreatedApiKey } from './apiKeys.ts';

/**
 * A person's own API keys, from /account (docs/nhi.md "Your own keys"). The same keys as
 * `keybound api-keys` makes, with the person as owner, within narrower rules: only scopes of
 * KEYBOUND_API_KEY_SELF_SCOPES (none by default: no self-service keys), making and rotating need a
 * fresh passkey sign-in (checked here too, not only by the route), and a key of someone else is
 * `api_key_not_found`. Each change is audited by the API-key service with `by: self:<session id>`.
 */
const MAX_SELF_TTL_S = 366 * 86_400;

const by = (active: ActiveSession) => `self:${active.session.id}`;

export async function listOwnApiKeys(deps: Deps, active: ActiveSession): Promise<ApiKeyDetails[]> {
  const listed = await listApiKeys(deps, { owner: active.account.username });
  return listed.ok ? listed.value : [];
}

export async function createOwnApiKey(deps: Deps, active: ActiveSession, input: { name: string; scopes: readonly string[]; expiresInS?: number | null }, _context: RequestContext): Promise<Result<CreatedApiKey>> {
  const fresh = await requireFresh(deps, active);
  if (!fresh.ok) return fresh;
  const allowed = deps.config.nhi.apiKeySelfScopes;
  if (allowed.length === 0) return fail('api_key_invalid', { message: 'This server does not let people make their own API keys (KEYBOUND_API_KEY_SELF_SCOPES is empty); ask an administrator.' });
  const refused = input.scopes.find((s) => !allowed.includes(s));
  if (refused !== undefined) return fail('api_key_invalid', { message: `A key you make yourself may have only these scopes: ${allowed.join(', ')} (not ${refused}).` });
  if (input.expiresInS !== undefined && input.expiresInS !== null && (!Number.isInteger(input.expiresInS) || input.expiresInS < 1 || input.expiresInS > MAX_SELF_TTL_S)) {
    return fail('api_key_invalid', { message: 'The lifetime must be a whole number of seconds.' });
  }
  return createApiKey(deps, { owner: active.account.username, name: input.name, scopes: input.scopes, expiresInMs: input.expiresInS ? input.expiresInS * 1000 : null, by: by(active) });
}

/** The key, if it is this person's; someone else's is not found (nothing tells it exists). */
async function own(deps: Deps, active: ActiveSession, id: string): Promise<Result<null>> {
  const key = await deps.store.apiKeys.find(id);
  return key && key.ownerId === active.account.id ? ok(null) : fail('api_key_not_found', { message: 'You have no such API key.' });
}

export async function revokeOwnApiKey(deps: Deps, active: ActiveSession, id: string): Promise<Result<ApiKeyDetails>> {
  const mine = await own(deps, active, id);
  if (!mine.ok) return mine;
  return revokeApiKey(deps, { id, by: by(active), reason: 'revoked by its owner' });
}

export async function rotateOwnApiKey(deps: Deps, active: ActiveSession, id: string, input: { overlapS?: number | null }): Promise<Result<CreatedApiKey & { readonly replaces: string; readonly previousValidUntil: string }>> {
  const fresh = await requireFresh(deps, active);
  if (!fresh.ok) return fresh;
  const mine = await own(deps, active, id);
  if (!mine.ok) return mine;
  return rotateApiKey(deps, { id, overlapMs: (input.overlapS ?? 0) * 1000, by: by(active) });
}
