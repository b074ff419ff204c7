import { errors, type Adapter, type AdapterFactory, type AdapterPayload } from 'oidc-provider';
import { hashSecret } from '../core/tokens.ts';
import type { Deps } from '../services/deps.ts';
import { grantAlive, revokeGrant } from '../services/grants.ts';
import { ProviderClients } from './providerClients.ts';

/**
 * Models issued to a person under a grant: found only while the grant's Keybound session (or, for
 * `offline_access`, its passkey and account) still holds (services/grants.ts `grantAlive`). So a
 * refresh, a code redemption, introspection and userinfo all answer as if the token were gone.
 */
const SESSION_BOUND = new Set(['AuthorizationCode', 'RefreshToken', 'AccessToken']);

/**
 * Largest payload an anonymous request may make the provider store: an authorization request's
 * Interaction (its parameters; an ordinary one is about 500 bytes, the 8 KiB address bound let one
 * reach 7.5 KB) and a pushed authorization request (issue 10, finding 10).
 */
export const MAX_PENDING_PAYLOAD = 4096;
const PENDING_MODELS = new Set(['Interaction', 'PushedAuthorizationRequest']);

/**
 * oidc-provider's storage adapter over the project's store (one instance per model name). Rows are
 * keyed by SHA-256 of the model id, because the id of a code, token or session is the bearer value
 * itself; the payload is stored without its `jti` and gets it back from the id on `find`.
 */
class PayloadAdapter implements Adapter {
  constructor(
    private readonly deps: Deps,
    private readonly model: string,
  ) {}

  private get store() {
    return this.deps.store.oidcPayloads;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const { jti: _jti, ...rest } = payload;
    const json = JSON.stringify(this.model === 'DeviceCode' ? payload : rest);
    // The request's parameters are what a stranger chooses; what the sign-in adds later is ours.
    const chosen = this.model === 'Interaction' ? JSON.stringify(payload.params ?? {}) : json;
    if (PENDING_MODELS.has(this.model) && Buffer.byteLength(chosen) > MAX_PENDING_PAYLOAD) {
      throw new errors.InvalidRequest(`the authorization request is too large (its parameters take more than ${MAX_PENDING_PAYLOAD} bytes)`);
    }
    await this.store.upsert({
      model: this.model,
      key: hashSecret(id),
      // DeviceCode is found by its user code and needs its id back to be consumed.
      payload: json,
      // A grant names itself, so its row goes with the rest of it (and bindings can find it).
      grantId: this.model === 'Grant' ? id : (payload.grantId ?? null),
      uid: payload.uid ?? null,
      userCode: payload.userCode ? hashSecret(payload.userCode) : null,
      accountId: payload.accountId ?? null,
      expiresAt: expiresIn ? this.deps.clock() + expiresIn * 1000 : null,
    });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const now = this.deps.clock();
    const stored = await this.store.find(this.model, hashSecret(id), now);
    if (!stored) return undefined;
    const payload = this.parse(stored);
    if (SESSION_BOUND.has(this.model) && payload.grantId && payload.accountId && !(await grantAlive(this.deps.store, payload.grantId, now))) return undefined;
    return { ...payload, jti: id };
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const stored = await this.store.findByUid(this.model, uid, this.deps.clock());
    return stored && this.parse(stored);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const stored = await this.store.findByUserCode(this.model, hashSecret(userCode), this.deps.clock());
    return stored && this.parse(stored);
  }

  /**
   * oidc-provider reads `consumed` and then calls consume(), two steps another request can fall
   * between. The store's consume is one conditional UPDATE, so exactly one caller wins. A loser is
   * a replay: it is refused and, as oidc-provider does for a replay it sees itself, everything
   * issued from the grant is revoked (RFC 6749 §4.1.2 for codes; RFC 9700 §4.14.2 for rotated
   * refresh tokens).
   */
  async consume(id: string): Promise<void> {
    const key = hashSecret(id);
    if (await this.store.consume(this.model, key, this.deps.clock())) return;
    const stored = await this.store.find(this.model, key, this.deps.clock());
    const grantId = stored ? (JSON.parse(stored.payload) as { grantId?: string }).grantId : undefined;
    if (grantId) await this.deps.store.transaction((tx) => revokeGrant(tx, grantId));
    if (this.model === 'PushedAuthorizationRequest') throw new errors.InvalidRequestUri('request_uri already used');
    throw new errors.InvalidGrant(`${this.model === 'RefreshToken' ? 'refresh token' : 'authorization code'} already used`);
  }

  async destroy(id: string): Promise<void> {
    await this.store.destroy(this.model, hashSecret(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.store.revokeByGrantId(this.model, grantId);
  }

  private parse(stored: { payload: string; consumedAt: number | null }): AdapterPayload {
    const payload = JSON.parse(stored.payload) as AdapterPayload;
    return stored.consumedAt === null ? payload : { ...payload, consumed: Math.floor(stored.consumedAt / 1000) };
  }
}

/**
 * Clients come from the `keybound clients` and `keybound workloads` commands; the provider only
 * reads them. A workload (services/nhi/workloads.ts) that is disabled, or whose owner is not active,
 * is not found: every request it authenticates is `invalid_client` at once, on every instance. During
 * a key rotation's overlap the keys it replaced are added to its JWK Set, and dropped after it.
 * oidc-provider keeps one Client per distinct metadata (a hash of it), so a changed key set is a new
 * client object and no old one is reused. Each find reads the row; only the parsing of an unchanged
 * row is kept (providerClients.ts).
 */
class ClientAdapter implements Adapter {
  constructor(private readonly clients: ProviderClients) {}

  async find(id: string): Promise<AdapterPayload | undefined> {
    return (await this.clients.find(id)) as AdapterPayload | undefined;
  }

  async upsert(): Promise<void> {
    throw new Error('clients are managed with `keybound clients`, not through the provider');
  }

  async destroy(): Promise<void> {
    throw new Error('clients are managed with `keybound clients`, not through the provider');
  }

  async findByUid(): Promise<undefined> {
    return undefined;
  }

  async findByUserCode(): Promise<undefined> {
    return undefined;
  }

  async consume(): Promise<void> {}

  async revokeByGrantId(): Promise<void> {}
}

export function adapterFactory(deps: Deps): AdapterFactory {
  const clients = new ProviderClients(deps);
  return (name: string) => (name === 'Client' ? new ClientAdapter(clients) : new PayloadAdapter(deps, name));
}
