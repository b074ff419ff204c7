import { base64url } from '../../core/bytes.ts';
import { fail, ok, type Result } from '../../core/errors.ts';
import { newApiKey, parseApiKey } from '../../core/nhi/apiKeyFormat.ts';
import { lastUseIsDue } from '../../core/nhi/lastUse.ts';
import { hashSecret, secretMatches } from '../../core/tokens.ts';
import type { ApiKeyRow } from '../../store/ports.ts';
import type { Deps } from '../deps.ts';
import { checkReason } from '../lifecycle.ts';
import { activeOwner, ownerNames } from './owner.ts';
import { isoTime, isoTimeOrNull } from '../../core/time.ts';

/**
 * API keys (issue 15; docs/nhi.md), for integrations that cannot hold a key pair. The key
 * (`kb_<env>_<random>_<checksum>`, core/nhi/apiKeyFormat.ts) is shown once; only SHA-256 of it is
 * kept (DESIGN.md principle 3). Every key has an owner who is active, scopes, and an expiry of at
 * most KEYBOUND_API_KEY_MAX_TTL. Resource servers check a key with RFC 7662 introspection
 * (oidc/machines.ts) or, in-process, with `checkApiKey`.
 */
const MAX_NAME = 100;

export interface CreatedApiKey {
  readonly id: string;
  /** The key itself: shown once, never stored. */
  readonly key: string;
  readonly expiresAt: string;
}

const invalid = (message: string) => fail('api_key_invalid', { message });

function checkLifetime(deps: Deps, ms: number | null | undefined): Result<number> {
  const max = deps.config.nhi.apiKeyMaxTtlMs;
  const lifetime = ms ?? max;
  if (!Number.isInteger(lifetime) || lifetime < 1000) return invalid('--expires-in must be at least one second.');
  if (lifetime > max) return invalid(`--expires-in must be at most ${max / 86_400_000} days (KEYBOUND_API_KEY_MAX_TTL): every key expires.`);
  return ok(lifetime);
}

function checkScopes(deps: Deps, scopes: readonly string[]): Result<string[]> {
  const list = [...new Set(scopes.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean))];
  if (list.length === 0) return invalid('Give at least one --scope.');
  // `scim`: SCIM provisioning (docs/scim.md), Keybound's own API rather than a resource server's.
  const known = [...deps.config.oidc.resourceScopes, 'scim'];
  const unknown = list.find((s) => !known.includes(s));
  if (unknown !== undefined) return invalid(`--scope ${unknown} is not one of KEYBOUND_OIDC_RESOURCE_SCOPES (${known.join(', ')}).`);
  return ok(list);
}

function mint(deps: Deps, fields: { ownerId: string; name: string; scopes: readonly string[]; at: number; lifetime: number }): { row: ApiKeyRow; key: string } {
  const key = newApiKey(deps.random, deps.config.nhi.apiKeyEnv);
  const row: ApiKeyRow = {
    id: `ak_${base64url.encode(deps.random(12))}`,
    keyHash: hashSecret(key),
    ownerId: fields.ownerId,
    name: fields.name,
    scopes: [...fields.scopes],
    status: 'active',
    revokedReason: null,
    createdAt: fields.at,
    expiresAt: fields.at + fields.lifetime,
    revokedAt: null,
    lastUsedAt: null,
    replacedBy: null,
  };
  return { row, key };
}

export async function createApiKey(deps: Deps, input: { owner: string; name: string; scopes: readonly string[]; expiresInMs?: number | null; by: string }): Promise<Result<CreatedApiKey>> {
  const name = input.name.trim();
  if (!name || name.length > MAX_NAME) return invalid(`The name must be 1 to ${MAX_NAME} characters.`);
  const scopes = checkScopes(deps, input.scopes);
  if (!scopes.ok) return scopes;
  const lifetime = checkLifetime(deps, input.expiresInMs);
  if (!lifetime.ok) return lifetime;
  const at = deps.clock();
  return deps.store.transaction(async (tx): Promise<Result<CreatedApiKey>> => {
    const owner = await activeOwner(tx, input.owner);
    if (!owner.ok) return owner;
    const { row, key } = mint(deps, { ownerId: owner.value.id, name, scopes: scopes.value, at, lifetime: lifetime.value });
    await tx.apiKeys.create(row);
    await tx.audit.append({ type: 'api_key.created', outcome: 'success', accountId: owner.value.id, at, details: { by: input.by, id: row.id, name, owner: owner.value.username, scopes: row.scopes, expiresAt: isoTime(row.expiresAt) } });
    return ok({ id: row.id, key, expiresAt: isoTime(row.expiresAt) });
  });
}

/** A key as listings show it: never the key or its hash. */
export interface ApiKeyDetails {
  readonly id: string;
  readonly name: string;
  readonly owner: string;
  readonly scopes: readonly string[];
  /** `active`, `expired` or `revoked` at the time asked. */
  readonly status: string;
  readonly revoked_reason: string | null;
  readonly created_at: string;
  readonly expires_at: string;
  readonly revoked_at: string | null;
  readonly last_used_at: string | null;
  readonly replaced_by: string | null;
}

function describe(k: ApiKeyRow, owner: string, now: number): ApiKeyDetails {
  return {
    id: k.id,
    name: k.name,
    owner,
    scopes: k.scopes,
    status: k.status === 'revoked' ? 'revoked' : k.expiresAt <= now ? 'expired' : 'active',
    revoked_reason: k.revokedReason,
    created_at: isoTime(k.createdAt),
    expires_at: isoTime(k.expiresAt),
    revoked_at: isoTimeOrNull(k.revokedAt),
    last_used_at: isoTimeOrNull(k.lastUsedAt),
    replaced_by: k.replacedBy,
  };
}

export async function showApiKey(deps: Deps, id: string): Promise<Result<ApiKeyDetails>> {
  const key = await deps.store.apiKeys.find(id);
  if (!key) return fail('api_key_not_found', { message: `No API key ${id}.` });
  const names = await ownerNames(deps.store, [key.ownerId]);
  return ok(describe(key, names.get(key.ownerId)!, deps.clock()));
}

export async function listApiKeys(deps: Deps, filter: { owner?: string } = {}): Promise<Result<ApiKeyDetails[]>> {
  let ownerId: string | undefined;
  if (filter.owner !== undefined) {
    const account = await deps.store.accounts.findByUsername(filter.owner.trim().toLowerCase());
    if (!account) return fail('account_not_found', { message: `No account ${filter.owner}.` });
    ownerId = account.id;
  }
  const keys = await deps.store.apiKeys.list(ownerId !== undefined ? { ownerId } : {});
  const names = await ownerNames(deps.store, keys.map((k) => k.ownerId));
  const now = deps.clock();
  return ok(keys.map((k) => describe(k, names.get(k.ownerId)!, now)));
}

/** Revokes a key for good: its next check fails, on every instance. */
export async function revokeApiKey(deps: Deps, input: { id: string; by: string; reason?: string | null }): Promise<Result<ApiKeyDetails>> {
  const at = deps.clock();
  const checked = checkReason(input.reason);
  if (!checked.ok) return checked;
  const reason = checked.value ?? 'revoked by an operator';
  const done = await deps.store.transaction(async (tx): Promise<Result<null>> => {
    const key = await tx.apiKeys.find(input.id);
    if (!key) return fail('api_key_not_found', { message: `No API key ${input.id}.` });
    if (!(await tx.apiKeys.revoke(key.id, reason, at))) return invalid(`API key ${key.id} is already revoked.`);
    await tx.audit.append({ type: 'api_key.revoked', outcome: 'success', accountId: key.ownerId, at, details: { by: input.by, id: key.id, reason } });
    return ok(null);
  });
  return done.ok ? showApiKey(deps, input.id) : done;
}

/**
 * Issues a successor with the same owner, name and scopes, and ends the old key after `overlapMs`
 * (0: at once), so clients can switch without a gap. The successor lives as long as the old key was
 * meant to (or `expiresInMs`), at most KEYBOUND_API_KEY_MAX_TTL; its owner must still be active.
 */
export async function rotateApiKey(deps: Deps, input: { id: string; overlapMs: number; expiresInMs?: number | null; by: string }): Promise<Result<CreatedApiKey & { readonly replaces: string; readonly previousValidUntil: string }>> {
  if (!Number.isInteger(input.overlapMs) || input.overlapMs < 0 || input.overlapMs > 30 * 86_400_000) return invalid('--overlap must be 0 to 30 days.');
  const at = deps.clock();
  return deps.store.transaction(async (tx) => {
    const old = await tx.apiKeys.find(input.id);
    if (!old) return fail('api_key_not_found', { message: `No API key ${input.id}.` });
    if (old.status !== 'active' || old.expiresAt <= at || old.replacedBy !== null) return invalid(`API key ${old.id} is ${old.replacedBy ? 'already rotated' : old.status === 'revoked' ? 'revoked' : 'expired'}; create a new one.`);
    const owner = await tx.accounts.findById(old.ownerId);
    if (!owner || (await tx.accounts.lock(owner.id)) !== 'active') return fail('owner_not_active', { message: `The owner of ${old.id} is not active.` });
    const lifetime = checkLifetime(deps, input.expiresInMs ?? Math.min(old.expiresAt - old.createdAt, deps.config.nhi.apiKeyMaxTtlMs));
    if (!lifetime.ok) return lifetime;
    const { row, key } = mint(deps, { ownerId: old.ownerId, name: old.name, scopes: old.scopes, at, lifetime: lifetime.value });
    await tx.apiKeys.create(row);
    const until = Math.min(old.expiresAt, at + input.overlapMs);
    // Compare-and-set on the old key (still active, not yet rotated): of two racing rotations one wins.
    if (!(await tx.apiKeys.supersede(old.id, row.id, until))) throw new Error('API key changed during its rotation');
    if (input.overlapMs === 0) await tx.apiKeys.revoke(old.id, `rotated to ${row.id}`, at);
    await tx.audit.append({ type: 'api_key.rotated', outcome: 'success', accountId: old.ownerId, at, details: { by: input.by, id: old.id, successor: row.id, previousValidUntil: isoTime(until), expiresAt: isoTime(row.expiresAt) } });
    return ok({ id: row.id, key, expiresAt: isoTime(row.expiresAt), replaces: old.id, previousValidUntil: isoTime(until) });
  });
}

/** Who a valid key speaks for. */
export interface ApiKeyPrincipal {
  readonly id: string;
  readonly ownerId: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly createdAt: number;
  readonly expiresAt: number;
}

type Lookup = { found: ApiKeyRow & { ownerStatus: string | null }; state: 'active' } | { found: (ApiKeyRow & { ownerStatus: string | null }) | null; state: 'unknown' | 'expired' | 'revoked' | 'owner_inactive' };

/** Format and checksum first (no database for a look-alike), then the hash, compared in constant time. */
async function lookUp(deps: Deps, key: string): Promise<Lookup> {
  if (!parseApiKey(key)) return { found: null, state: 'unknown' };
  const found = await deps.store.apiKeys.findByHash(hashSecret(key));
  if (!found || !secretMatches(key, found.keyHash)) return { found: null, state: 'unknown' };
  if (found.status !== 'active') return { found, state: 'revoked' };
  if (found.expiresAt <= deps.clock()) return { found, state: 'expired' };
  if (found.ownerStatus !== 'active') return { found, state: 'owner_inactive' };
  return { found, state: 'active' };
}

/**
 * Checks a presented key: right format and checksum, known, not revoked, not expired, its owner
 * active, and holding every scope in `require`. Records the use, to the minute (core/nhi/lastUse.ts).
 * Every refusal is the same `api_key_rejected` to the caller (the reason is in the message for logs, never the key).
 */
export async function checkApiKey(deps: Deps, key: string, options: { require?: readonly string[] } = {}): Promise<Result<ApiKeyPrincipal>> {
  const { found, state } = await lookUp(deps, key);
  if (state !== 'active' || !found) return fail('api_key_rejected', { message: `API key rejected: ${state}.` });
  const missing = (options.require ?? []).filter((s) => !found.scopes.includes(s));
  if (missing.length > 0) return fail('api_key_rejected', { message: `API key rejected: it lacks scope ${missing.join(' ')}.` });
  const now = deps.clock();
  if (lastUseIsDue(found.lastUsedAt, now)) await deps.store.apiKeys.recordUse(found.id, now);
  return ok({ id: found.id, ownerId: found.ownerId, name: found.name, scopes: found.scopes, createdAt: found.createdAt, expiresAt: found.expiresAt });
}

/** What a scanner reports of a key it found (no use recorded): `live` means it would be accepted now. */
export async function apiKeyState(deps: Deps, key: string): Promise<{ readonly state: 'live' | 'unknown' | 'expired' | 'revoked' | 'owner_inactive'; readonly id: string | null }> {
  const { found, state } = await lookUp(deps, key);
  return { state: state === 'active' ? 'live' : state, id: found?.id ?? null };
}
