import { constants, createPrivateKey, createPublicKey, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ExternalSigningKey, type JWK, type JWKS } from 'oidc-provider';

/**
 * How node:crypto makes each JWS algorithm's signature (RFC 7518 §3): ECDSA as R || S (§3.4, not
 * DER), RSASSA-PSS with MGF1 and a salt as long as the hash (§3.5), EdDSA over the message itself
 * (RFC 8037 §3.1).
 */
const SIGNERS: Readonly<Record<string, (data: Uint8Array, key: KeyObject) => Uint8Array>> = {
  ES256: (data, key) => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }),
  RS256: (data, key) => sign('sha256', data, key),
  PS256: (data, key) => sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }),
  EdDSA: (data, key) => sign(null, data, key),
  Ed25519: (data, key) => sign(null, data, key),
};

/**
 * One of Keybound's signing keys handed to oidc-provider as an `ExternalSigningKey`: the provider
 * gives it the JWS signing input and takes the signature back. It signs with node:crypto
 * synchronously. Given a private JWK, the provider signs through jose and WebCrypto instead, which
 * costs several times the CPU of the signature itself on every token (about 135 µs against 30 µs
 * for ES256 on the benchmark machine: a job on the thread pool, a promise, WebIDL conversions).
 * The key, its `kid`, its algorithm and what the provider publishes are unchanged.
 */
class NodeSigningKey extends ExternalSigningKey {
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #sign: (data: Uint8Array, key: KeyObject) => Uint8Array;

  constructor(jwk: JWK & { kid: string; alg: string }) {
    super();
    this.#privateKey = createPrivateKey({ key: { ...jwk } as JsonWebKey, format: 'jwk' });
    this.#publicKey = createPublicKey(this.#privateKey);
    this.#sign = SIGNERS[jwk.alg]!;
    // oidc-provider's class has setters for both (its type declarations only show the getters).
    const named = this as unknown as { kid: string; alg: string };
    named.kid = jwk.kid;
    named.alg = jwk.alg;
  }

  override keyObject(): KeyObject {
    return this.#publicKey;
  }

  override sign(data: Uint8Array): Uint8Array {
    return this.#sign(data, this.#privateKey);
  }
}

/**
 * The provider's `jwks`: each private JWK whose algorithm node:crypto signs here becomes a
 * NodeSigningKey (needs `features.externalSigningSupport`, configuration.ts); any other is passed
 * as it is.
 */
export function providerSigningKeys(jwks: JWKS): JWKS {
  const signable = (key: JWK | ExternalSigningKey): key is JWK & { kid: string; alg: string } =>
    !(key instanceof ExternalSigningKey) && typeof key.alg === 'string' && typeof key.kid === 'string' && key.alg in SIGNERS && key.use !== 'enc';
  return { keys: jwks.keys.map((key) => (signable(key) ? new NodeSigningKey(key) : key)) };
}
