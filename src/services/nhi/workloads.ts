import { fail, ok, type Result } from '../../core/errors.ts';
import { createClient, TOKEN_EXCHANGE_GRANT, type MetadataValidator } from '../../oidc/clients.ts';
import { clientPolicy } from '../../oidc/clientPolicy.ts';
import type { OidcClientRow, WorkloadKind, WorkloadRow } from '../../store/ports.ts';
import type { Store } from '../../store/index.ts';
import type { Deps } from '../deps.ts';
import { checkReason } from '../lifecycle.ts';
import { activeOwner, ownerNames } from './owner.ts';
import { isoTime, isoTimeOrNull } from '../../core/time.ts';

/**
 * Workloads (issue 15; docs/nhi.md): services and AI agents as OpenID clients that authenticate
 * with `private_key_jwt` (RFC 7523) and get short-lived client-credentials tokens from the one
 * provider. Each has an owner (an active account), a kind, a token lifetime of at most 900 s, and
 * a status: the provider's client adapter (oidc/adapter.ts) finds no client for a workload that is
 * disabled or whose owner is not active, so its next token request is `invalid_client`.
 * Agents only ever get DPoP-bound tokens (RFC 9449 §5.2 `dpop_bound_access_tokens`).
 */
export const WORKLOAD_KINDS = ['service', 'agent'] as const;
export const MAX_WORKLOAD_TTL_S = 900;
/** Longest JWK Set a workload registers, as JSON. */
export const MAX_JWKS = 8192;
export const DEFAULT_WORKLOAD_TTL_S = 300;

export type Jwks = { readonly keys: readonly Record<string, unknown>[] };

export interface WorkloadInput {
  readonly name: string;
  readonly owner: string;
  readonly kind: string;
  readonly jwks: Jwks;
  readonly audiences: readonly string[];
  readonly scopes: readonly string[];
  readonly ttlS?: number | null;
  /** Who runs the command, for the audit trail. */
  readonly by: string;
}

const invalid = (message: string) => fail('workload_invalid', { message });

function checkJwks(jwks: Jwks): string | null {
  if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) return 'Give at least one public key (--jwks).';
  if (jwks.keys.some((k) => typeof k.kty !== 'string')) return 'Every key needs a kty.';
  if (jwks.keys.some((k) => 'd' in k || 'p' in k || 'k' in k)) return 'Give public keys only: the workload keeps its private key.';
  // Every stored string has a bound: the set is kept in the client's metadata, and the replaced one
  // beside the workload during a rotation's overlap.
  if (JSON.stringify(jwks).length > MAX_JWKS) return `The key set is at most ${MAX_JWKS} characters of JSON (a few public keys).`;
  return null;
}

export async function createWorkload(deps: Deps, input: WorkloadInput, validate: MetadataValidator): Promise<Result<WorkloadDetails>> {
  if (!(WORKLOAD_KINDS as readonly string[]).includes(input.kind)) return invalid(`--kind must be ${WORKLOAD_KINDS.join(' or ')}.`);
  const kind = input.kind as WorkloadKind;
  const ttl = input.ttlS ?? DEFAULT_WORKLOAD_TTL_S;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_WORKLOAD_TTL_S) return invalid(`--ttl must be 1 to ${MAX_WORKLOAD_TTL_S} seconds: a workload's tokens are short-lived.`);
  const keysProblem = checkJwks(input.jwks);
  if (keysProblem) return invalid(keysProblem);
  const at = deps.clock();
  return deps.store.transaction(async (tx): Promise<Result<WorkloadDetails>> => {
    const owner = await activeOwner(tx, input.owner);
    if (!owner.ok) return owner;
    const created = await createClient(
      { ...deps, store: tx },
      {
        name: input.name,
        redirectUris: [],
        postLogoutRedirectUris: [],
        public: false,
        jwks: { keys: [...input.jwks.keys] },
        // An agent may also exchange a person's token, under that person's delegation (nhi/delegations.ts).
        grantTypes: kind === 'agent' ? ['client_credentials', TOKEN_EXCHANGE_GRANT] : ['client_credentials'],
        requireDpop: kind === 'agent',
        scopes: [...input.scopes],
        resources: [...input.audiences],
        tokenTtlS: ttl,
      },
      validate,
    );
    if (!created.ok) return created.code === 'client_invalid' ? invalid(created.message ?? 'These workload settings are not valid.') : created;
    const { client } = created.value;
    const row: WorkloadRow = {
      clientId: client.clientId,
      name: client.name,
      ownerId: owner.value.id,
      kind,
      status: 'active',
      disabledReason: null,
      tokenTtlS: ttl,
      previousJwks: null,
      previousJwksUntil: null,
      keysRotatedAt: null,
      createdAt: at,
      lastUsedAt: null,
    };
    await tx.workloads.create(row);
    await tx.audit.append({ type: 'workload.created', outcome: 'success', accountId: owner.value.id, at, details: { by: input.by, clientId: client.clientId, name: client.name, kind, owner: owner.value.username, ttl, scopes: [...input.scopes], audiences: [...input.audiences] } });
    return ok(describe(row, client, owner.value.username, at));
  });
}

/** A workload as the CLI prints it: never a private key (there is none here), its public keys' ids. */
export interface WorkloadDetails {
  readonly client_id: string;
  readonly name: string;
  readonly owner: string;
  readonly kind: WorkloadKind;
  readonly status: string;
  readonly disabled_reason: string | null;
  readonly token_ttl: number;
  readonly dpop_required: boolean;
  readonly scopes: readonly string[];
  readonly audiences: readonly string[];
  readonly keys: readonly string[];
  readonly previous_keys: readonly string[];
  readonly previous_keys_valid_until: string | null;
  readonly keys_rotated_at: string | null;
  readonly created_at: string;
  readonly last_used_at: string | null;
}

const keyIds = (jwks: unknown) => ((jwks as Jwks | undefined)?.keys ?? []).map((k, i) => (typeof k.kid === 'string' ? k.kid : `#${i + 1} ${String(k.kty)}`));

function describe(w: WorkloadRow, client: OidcClientRow, owner: string, now: number): WorkloadDetails {
  const policy = clientPolicy(client.metadata);
  const overlapping = w.previousJwksUntil !== null && w.previousJwksUntil > now;
  return {
    client_id: w.clientId,
    name: w.name,
    owner,
    kind: w.kind,
    status: w.status,
    disabled_reason: w.disabledReason,
    token_ttl: w.tokenTtlS,
    dpop_required: client.metadata.dpop_bound_access_tokens === true,
    scopes: policy.scopes,
    audiences: policy.resources,
    keys: keyIds(client.metadata.jwks),
    previous_keys: overlapping ? keyIds(w.previousJwks) : [],
    previous_keys_valid_until: overlapping ? isoTimeOrNull(w.previousJwksUntil) : null,
    keys_rotated_at: isoTimeOrNull(w.keysRotatedAt),
    created_at: isoTime(w.createdAt),
    last_used_at: isoTimeOrNull(w.lastUsedAt),
  };
}

async function load(store: Store, clientId: string): Promise<Result<{ workload: WorkloadRow; client: OidcClientRow }>> {
  const workload = await store.workloads.find(clientId);
  const client = workload && (await store.oidcClients.find(clientId));
  if (!workload || !client) return fail('workload_not_found', { message: `No workload ${clientId}.` });
  return ok({ workload, client });
}

export async function showWorkload(deps: Deps, clientId: string): Promise<Result<WorkloadDetails>> {
  const found = await load(deps.store, clientId);
  if (!found.ok) return found;
  const names = await ownerNames(deps.store, [found.value.workload.ownerId]);
  return ok(describe(found.value.workload, found.value.client, names.get(found.value.workload.ownerId)!, deps.clock()));
}

export async function listWorkloads(deps: Deps, filter: { owner?: string } = {}): Promise<Result<WorkloadDetails[]>> {
  let ownerId: string | undefined;
  if (filter.owner !== undefined) {
    const account = await deps.store.accounts.findByUsername(filter.owner.trim().toLowerCase());
    if (!account) return fail('account_not_found', { message: `No account ${filter.owner}.` });
    ownerId = account.id;
  }
  const rows = await deps.store.workloads.list(ownerId !== undefined ? { ownerId } : {});
  const names = await ownerNames(deps.store, rows.map((w) => w.ownerId));
  const out: WorkloadDetails[] = [];
  for (const w of rows) {
    const client = await deps.store.oidcClients.find(w.clientId);
    if (client) out.push(describe(w, client, names.get(w.ownerId)!, deps.clock()));
  }
  return ok(out);
}

/** Disables a workload: its next token request is `invalid_client`; tokens issued live until they expire (at most its TTL). */
export async function disableWorkload(deps: Deps, input: { clientId: string; by: string; reason?: string | null }): Promise<Result<WorkloadDetails>> {
  const reason = checkReason(input.reason);
  if (!reason.ok) return reason;
  return change(deps, input.clientId, async (tx, w) => {
    if (w.status === 'disabled') return fail('workload_invalid', { message: `Workload ${w.clientId} is already disabled.` });
    await tx.workloads.setStatus(w.clientId, 'disabled', reason.value ?? 'disabled by an operator');
    return ok({ type: 'workload.disabled', details: { by: input.by, reason: reason.value } });
  });
}

/** Enables a disabled workload, if its owner is active. */
export async function enableWorkload(deps: Deps, input: { clientId: string; by: string }): Promise<Result<WorkloadDetails>> {
  return change(deps, input.clientId, async (tx, w) => {
    if (w.status === 'active') return fail('workload_invalid', { message: `Workload ${w.clientId} is already enabled.` });
    const owner = await tx.accounts.findById(w.ownerId);
    if (!owner || (await tx.accounts.lock(owner.id)) !== 'active') {
      return fail('owner_not_active', { message: `The owner of ${w.clientId} is not active: transfer it to an active account first (workloads transfer --to).` });
    }
    await tx.workloads.setStatus(w.clientId, 'active', null);
    return ok({ type: 'workload.enabled', details: { by: input.by } });
  });
}

/** Gives a workload to another active account. */
export async function transferWorkload(deps: Deps, input: { clientId: string; to: string; by: string }): Promise<Result<WorkloadDetails>> {
  return change(deps, input.clientId, async (tx, w) => {
    const owner = await activeOwner(tx, input.to);
    if (!owner.ok) return owner;
    await tx.workloads.setOwner(w.clientId, owner.value.id);
    return ok({ type: 'workload.transferred', details: { by: input.by, from: w.ownerId, to: owner.value.id, toUsername: owner.value.username }, accountId: owner.value.id });
  });
}

/**
 * Replaces a workload's public keys. With an overlap, the keys replaced stay valid until then
 * (oidc/adapter.ts adds them to the client the provider loads), so the workload can switch keys
 * without a gap; after it, an assertion signed with an old key is refused. No overlap: at once.
 */
export async function rotateWorkloadKeys(deps: Deps, input: { clientId: string; jwks: Jwks; overlapMs: number; by: string }): Promise<Result<WorkloadDetails>> {
  const keysProblem = checkJwks(input.jwks);
  if (keysProblem) return invalid(keysProblem);
  if (!Number.isInteger(input.overlapMs) || input.overlapMs < 0 || input.overlapMs > 30 * 86_400_000) return invalid('--overlap must be 0 to 30 days.');
  return change(deps, input.clientId, async (tx, w, client) => {
    const at = deps.clock();
    const previous = (client.metadata.jwks as Jwks | undefined) ?? { keys: [] };
    await tx.oidcClients.updateMetadata(w.clientId, { ...client.metadata, jwks: { keys: [...input.jwks.keys] } });
    await tx.workloads.recordRotation(w.clientId, input.overlapMs > 0 ? { keys: [...previous.keys] } : null, input.overlapMs > 0 ? at + input.overlapMs : null, at);
    return ok({ type: 'workload.keys_rotated', details: { by: input.by, keys: keyIds(input.jwks), previousKeys: keyIds(previous), previousValidUntil: input.overlapMs > 0 ? isoTime(at + input.overlapMs) : null } });
  });
}

type Change = { type: string; details: Record<string, unknown>; accountId?: string };

async function change(deps: Deps, clientId: string, work: (tx: Store, w: WorkloadRow, client: OidcClientRow) => Promise<Result<Change>>): Promise<Result<WorkloadDetails>> {
  const result = await deps.store.transaction(async (tx): Promise<Result<null>> => {
    const found = await load(tx, clientId);
    if (!found.ok) return found;
    const done = await work(tx, found.value.workload, found.value.client);
    if (!done.ok) return done;
    await tx.audit.append({ type: done.value.type, outcome: 'success', accountId: done.value.accountId ?? found.value.workload.ownerId, at: deps.clock(), details: { clientId, ...done.value.details } });
    return ok(null);
  });
  if (!result.ok) return result;
  return showWorkload(deps, clientId);
}
