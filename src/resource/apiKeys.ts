import { createHash, randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { parseApiKey } from '../core/nhi/apiKeyFormat.ts';

/**
 * Checking Keybound API keys (`kb_<env>_<random>_<checksum>`, docs/nhi.md) at a resource server:
 * the checksum first, here, so a look-alike costs no request; then RFC 7662 introspection at the
 * provider, authenticated with `private_key_jwt` (RFC 7523) as the resource-server client
 * (`keybound clients create --resource-server <this API>`); the answer kept a short time.
 */
export interface ApiKeyOptions {
  /** This resource server's client id at Keybound (a client made with `--resource-server`). */
  readonly clientId: string;
  /** Its private key, for the client assertion: a JWK, a WebCrypto CryptoKey or a Node.js KeyObject. */
  readonly privateKey: JWK | CryptoKey | KeyObject;
  /** The key's algorithm (default ES256). */
  readonly alg?: string;
  /** Default `${issuer}/token/introspection`. */
  readonly introspectionEndpoint?: string;
  /**
   * How long an answer is kept, in seconds (default 10; 0 keeps none). A key revoked at Keybound can
   * still be accepted here for this long by an instance that checked it just before.
   */
  readonly cacheTtlS?: number;
  /** How many answers are kept (default 1000; the oldest goes first). */
  readonly cacheEntries?: number;
  /** For tests, or a custom agent: the `fetch` to call the provider with. */
  readonly fetch?: (url: string, init: { method: 'POST'; headers: Record<string, string>; body: string }) => Promise<{ status: number; json(): Promise<unknown> }>;
}

/** What an active key is, as introspection tells it (RFC 7662 §2.2). */
export interface ApiKeyClaims {
  readonly active: true;
  readonly token_type: 'api_key';
  /** The owner: the account the key acts for. */
  readonly sub: string;
  readonly username?: string;
  readonly scope: string;
  readonly iat?: number;
  readonly exp: number;
  readonly iss?: string;
  readonly keybound_api_key_id: string;
}

export type ApiKeyCheck = { readonly ok: true; readonly key: ApiKeyClaims } | { readonly ok: false; readonly description: string; readonly unavailable?: true };

/** The provider could not answer: not kept, so the next request asks again. */
const unavailable = (why: string): ApiKeyCheck => ({ ok: false, description: `the API key could not be checked (${why})`, unavailable: true });

/** Whether a bearer value is meant as a Keybound API key (its shape; the checksum is checked later). */
export const looksLikeApiKey = (value: string): boolean => /^kb_[a-z0-9]{1,8}_/.test(value);

export function apiKeyChecker(issuer: string, options: ApiKeyOptions, now: () => number) {
  const endpoint = options.introspectionEndpoint ?? `${issuer.replace(/\/$/, '')}/token/introspection`;
  const ttlMs = Math.max(0, options.cacheTtlS ?? 10) * 1000;
  const capacity = Math.max(1, options.cacheEntries ?? 1000);
  const send = options.fetch ?? ((url, init) => fetch(url, init));
  const alg = options.alg ?? 'ES256';
  const cache = new Map<string, { answer: ApiKeyCheck; until: number }>();
  let signingKey: Promise<CryptoKey | KeyObject | Uint8Array> | undefined;

  const key = () => (signingKey ??= isJwk(options.privateKey) ? importJWK(options.privateKey, alg) : Promise.resolve(options.privateKey));

  async function introspect(value: string): Promise<ApiKeyCheck> {
    // RFC 7523 §3: the assertion is checked against the provider's clock, so it is dated by the real one.
    const at = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg })
      .setIssuer(options.clientId)
      .setSubject(options.clientId)
      .setAudience(issuer)
      .setJti(randomUUID())
      .setIssuedAt(at)
      .setExpirationTime(at + 60)
      .sign(await key());
    const body = new URLSearchParams({
      token: value,
      client_id: options.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }).toString();
    let answer: unknown;
    try {
      const response = await send(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body });
      if (response.status !== 200) return unavailable(`introspection answered ${response.status}`);
      answer = await response.json();
    } catch {
      return unavailable('introspection failed');
    }
    const claims = answer as Partial<ApiKeyClaims> | null;
    if (!claims || claims.active !== true) return { ok: false, description: 'the API key is not active (unknown, expired or revoked)' };
    if (claims.token_type !== 'api_key' || typeof claims.sub !== 'string' || typeof claims.scope !== 'string' || typeof claims.exp !== 'number' || typeof claims.keybound_api_key_id !== 'string') {
      return { ok: false, description: 'the introspection answer for the API key is not one this helper understands' };
    }
    if (claims.exp * 1000 <= now()) return { ok: false, description: 'the API key has expired' };
    return { ok: true, key: claims as ApiKeyClaims };
  }

  return async function check(value: string): Promise<ApiKeyCheck> {
    // A look-alike (bad checksum) never reaches the provider.
    if (!parseApiKey(value)) return { ok: false, description: 'the API key is malformed (its checksum does not match)' };
    const id = createHash('sha256').update(value).digest('base64url');
    const at = now();
    const cached = cache.get(id);
    if (cached && cached.until > at) return cached.answer.ok && cached.answer.key.exp * 1000 <= at ? { ok: false, description: 'the API key has expired' } : cached.answer;
    if (cached) cache.delete(id);
    const answer = await introspect(value);
    if (ttlMs > 0 && !(!answer.ok && answer.unavailable)) {
      if (cache.size >= capacity) cache.delete(cache.keys().next().value!);
      cache.set(id, { answer, until: at + ttlMs });
    }
    return answer;
  };
}

function isJwk(key: ApiKeyOptions['privateKey']): key is JWK {
  // A CryptoKey or KeyObject has no `kty`; a JWK always has one (RFC 7517 §4.1).
  return typeof (key as { kty?: unknown }).kty === 'string';
}
