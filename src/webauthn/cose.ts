import { createPublicKey, verify as verifySignature, constants, KeyObject } from 'node:crypto';
import { decodeCbor, type CborMap } from './cbor.ts';
import { base64url } from '../core/bytes.ts';

/**
 * COSE public keys (RFC 9052/9053, WebAuthn §6.5.1.1) turned into node:crypto `KeyObject`s, and the
 * signature check for each algorithm. Registration policy decides which algorithms may be enrolled;
 * this module can verify every algorithm node:crypto implements, so stored keys keep working if the
 * policy narrows.
 */

export const COSE_ALG = {
  ES256: -7,
  EdDSA: -8,
  ES384: -35,
  ES512: -36,
  PS256: -37,
  PS384: -38,
  PS512: -39,
  Ed25519: -19,
  Ed448: -53,
  ESP256: -9,
  RS256: -257,
  RS384: -258,
  RS512: -259,
} as const;

/** What an algorithm needs from `crypto.verify`. */
interface AlgorithmParams {
  readonly kty: 1 | 2 | 3;
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
  readonly crv?: readonly number[];
  readonly pss?: boolean;
}

const PARAMS: Record<number, AlgorithmParams> = {
  [COSE_ALG.ES256]: { kty: 2, hash: 'sha256', crv: [1] },
  [COSE_ALG.ESP256]: { kty: 2, hash: 'sha256', crv: [1] },
  [COSE_ALG.ES384]: { kty: 2, hash: 'sha384', crv: [2] },
  [COSE_ALG.ES512]: { kty: 2, hash: 'sha512', crv: [3] },
  [COSE_ALG.EdDSA]: { kty: 1, hash: null, crv: [6, 7] },
  [COSE_ALG.Ed25519]: { kty: 1, hash: null, crv: [6] },
  [COSE_ALG.Ed448]: { kty: 1, hash: null, crv: [7] },
  [COSE_ALG.RS256]: { kty: 3, hash: 'sha256' },
  [COSE_ALG.RS384]: { kty: 3, hash: 'sha384' },
  [COSE_ALG.RS512]: { kty: 3, hash: 'sha512' },
  [COSE_ALG.PS256]: { kty: 3, hash: 'sha256', pss: true },
  [COSE_ALG.PS384]: { kty: 3, hash: 'sha384', pss: true },
  [COSE_ALG.PS512]: { kty: 3, hash: 'sha512', pss: true },
};

const EC_CURVES: Record<number, { name: string; size: number }> = {
  1: { name: 'P-256', size: 32 },
  2: { name: 'P-384', size: 48 },
  3: { name: 'P-521', size: 66 },
};
const OKP_CURVES: Record<number, { name: string; size: number }> = {
  6: { name: 'Ed25519', size: 32 },
  7: { name: 'Ed448', size: 57 },
};

/**
 * A public key as `crypto.verify` takes it: an imported `KeyObject`, or (for a key used once, see
 * PublicKeyCache) its SubjectPublicKeyInfo DER, which OpenSSL parses for that one call and frees when
 * it returns.
 */
export interface PublicKey {
  readonly alg: number;
  readonly key: KeyObject | Buffer;
}

/** SubjectPublicKeyInfo DER up to the key bytes: P-256 (RFC 5480, uncompressed point) and Ed25519 (RFC 8410). */
const SPKI_P256 = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export class CoseKeyError extends Error {
  override readonly name = 'CoseKeyError';
  constructor(
    readonly reason: 'malformed' | 'unsupported_algorithm',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Decodes a COSE_Key and imports it; throws `CoseKeyError` for a bad or unsupported key. With
 * `transient`, a P-256 or Ed25519 key comes back as DER rather than a `KeyObject` (see PublicKeyCache):
 * its point is then checked by OpenSSL when it verifies, so use it only for keys checked at registration.
 */
export function importCoseKey(cose: Uint8Array, options: { transient?: boolean } = {}): PublicKey {
  let map: unknown;
  try {
    map = decodeCbor(cose);
  } catch (error) {
    throw new CoseKeyError('malformed', `COSE key is not valid CBOR: ${(error as Error).message}`);
  }
  if (!(map instanceof Map)) throw new CoseKeyError('malformed', 'COSE key is not a map');
  return importCoseMap(map, options);
}

/** A byte-string parameter of a COSE key, base64url-encoded for a JWK. */
function coseBytes(map: CborMap, label: number): string {
  const value = map.get(label);
  if (!(value instanceof Uint8Array)) throw new CoseKeyError('malformed', `COSE key parameter ${label} missing`);
  return base64url.encode(value);
}

export function importCoseMap(map: CborMap, options: { transient?: boolean } = {}): PublicKey {
  const kty = map.get(1);
  const alg = map.get(3);
  if (typeof alg !== 'number') throw new CoseKeyError('malformed', 'COSE key has no integer alg');
  const params = PARAMS[alg];
  if (!params) throw new CoseKeyError('unsupported_algorithm', `COSE algorithm ${alg} is not supported`);
  if (kty !== params.kty) throw new CoseKeyError('malformed', `COSE key type ${String(kty)} does not fit algorithm ${alg}`);
  let jwk: Record<string, string>;
  if (kty === 2) {
    const crv = map.get(-1);
    const curve = typeof crv === 'number' && params.crv?.includes(crv) ? EC_CURVES[crv] : undefined;
    if (!curve) throw new CoseKeyError('malformed', `EC curve ${String(crv)} does not fit algorithm ${alg}`);
    const x = map.get(-2);
    const y = map.get(-3);
    if (!(x instanceof Uint8Array) || !(y instanceof Uint8Array) || x.byteLength !== curve.size || y.byteLength !== curve.size) {
      throw new CoseKeyError('malformed', 'EC coordinates missing or of the wrong size');
    }
    if (options.transient && curve.name === 'P-256') return { alg, key: Buffer.concat([SPKI_P256, x, y]) };
    jwk = { kty: 'EC', crv: curve.name, x: base64url.encode(x), y: base64url.encode(y) };
  } else if (kty === 1) {
    const crv = map.get(-1);
    const curve = typeof crv === 'number' && params.crv?.includes(crv) ? OKP_CURVES[crv] : undefined;
    if (!curve) throw new CoseKeyError('malformed', `OKP curve ${String(crv)} does not fit algorithm ${alg}`);
    const x = map.get(-2);
    if (!(x instanceof Uint8Array) || x.byteLength !== curve.size) throw new CoseKeyError('malformed', 'OKP key of the wrong size');
    if (options.transient && curve.name === 'Ed25519') return { alg, key: Buffer.concat([SPKI_ED25519, x]) };
    jwk = { kty: 'OKP', crv: curve.name, x: base64url.encode(x) };
  } else {
    jwk = { kty: 'RSA', n: coseBytes(map, -1), e: coseBytes(map, -2) };
  }
  try {
    // node:crypto refuses EC points that are not on the curve.
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    if (kty === 3 && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
      throw new CoseKeyError('malformed', 'RSA keys shorter than 2048 bits are refused');
    }
    return { alg, key };
  } catch (error) {
    if (error instanceof CoseKeyError) throw error;
    throw new CoseKeyError('malformed', `COSE key cannot be imported: ${(error as Error).message}`);
  }
}

/** Verifies a WebAuthn signature (DER-encoded for ECDSA, WebAuthn §6.5.5). Never throws. */
export function verifyWithKey(publicKey: PublicKey, data: Uint8Array, signature: Uint8Array): boolean {
  const params = PARAMS[publicKey.alg];
  if (!params) return false;
  try {
    return verifySignature(params.kty === 1 ? null : params.hash, data, verifyOptions(publicKey, params), signature);
  } catch {
    // A signature of the wrong shape for the key (say, DER ECDSA against RSA) is simply not valid.
    return false;
  }
}

/**
 * node:crypto's options for one verification, each written out whole rather than as
 * `{ ...key, extra }`: a property added to a spread's copy makes a new hidden class (and a
 * descriptor array, in the old generation) on every call (BENCHMARKS.md, eleventh look).
 */
function verifyOptions(publicKey: PublicKey, params: AlgorithmParams) {
  const key = publicKey.key;
  if (params.kty === 2) {
    // ECDSA signatures are DER-encoded in WebAuthn (§6.5.5).
    return key instanceof KeyObject ? { key, dsaEncoding: 'der' as const } : { key, format: 'der' as const, type: 'spki' as const, dsaEncoding: 'der' as const };
  }
  if (params.pss) {
    const padding = constants.RSA_PKCS1_PSS_PADDING;
    const saltLength = params.hash === 'sha256' ? 32 : params.hash === 'sha384' ? 48 : 64;
    return key instanceof KeyObject ? { key, padding, saltLength } : { key, format: 'der' as const, type: 'spki' as const, padding, saltLength };
  }
  return key instanceof KeyObject ? { key } : { key, format: 'der' as const, type: 'spki' as const };
}

/**
 * Imported keys by their COSE encoding. Importing a P-256 key costs about 100 µs, more than
 * verifying with it, and stored public keys never change, so a bounded cache is safe to keep per
 * process.
 *
 * Least recently used out, with an admission rule: while there is room every key is admitted; once
 * full, a key is admitted (evicting the least recently used) only on its second miss within the
 * last `capacity` misses. A key seen once is no reason to drop one in use: with far more
 * credentials than room (1,000,000 accounts signing in at random, `npm run bench`), admitting every
 * miss replaced cached keys on every sign-in for no hits, and the churn of OpenSSL key objects kept
 * the heap 100 MB larger than no cache at all.
 *
 * And once full, at most one key is admitted per `admitIntervalMs` (100 ms: ten a second). An evicted
 * key object has usually lived long enough to reach V8's old generation, where only a full collection
 * frees it and its OpenSSL state (invisible to V8's heap accounting); when tens of thousands of
 * accounts each sign in again and again, second misses alone still replaced cached keys hundreds of
 * times a second, and a server with 1,000,000 accounts peaked at 488 MB (`npm run bench`, scale).
 * The same churn in a bare loop here: 60,000 keys looked up at random through 10,000 entries,
 * +164 MB of peak RSS with second-miss admission, +50 MB with this limit, +9 MB with no cache. A
 * new working set still fills the cache, in under 20 minutes.
 *
 * A key that is not kept is never imported: a P-256 or Ed25519 key goes to `crypto.verify` as DER,
 * which OpenSSL parses and frees within the call. Imported and dropped, each `KeyObject` held its
 * OpenSSL memory until a garbage collection that V8, unaware of that memory, saw no reason to run:
 * at 1,000,000 accounts the server peaked at 400-489 MB with the cache on, and 301 MB with DER
 * (`npm run bench -- --scenarios scale`, BENCHMARKS.md).
 */
export class PublicKeyCache {
  private readonly entries = new Map<string, PublicKey>();
  /** Recent misses that were not admitted, oldest first. */
  private readonly missed = new Set<string>();
  private lastAdmission = Number.NEGATIVE_INFINITY;
  constructor(
    private readonly capacity = 10_000,
    private readonly admitIntervalMs = 100,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(coseB64: string): PublicKey {
    const hit = this.entries.get(coseB64);
    if (hit) {
      // Map keeps insertion order: re-inserting makes this the most recently used entry.
      this.entries.delete(coseB64);
      this.entries.set(coseB64, hit);
      return hit;
    }
    const cose = base64url.decode(coseB64);
    if (!cose) throw new CoseKeyError('malformed', 'stored public key is not base64url');
    if (this.capacity > 0 && this.admits(coseB64)) {
      const key = importCoseKey(cose);
      this.entries.set(coseB64, key);
      return key;
    }
    // Not kept: no KeyObject, whose OpenSSL memory would wait for a garbage collection.
    return importCoseKey(cose, { transient: true });
  }

  /** Whether a missed key gets a place (making room once full); a first miss is only remembered. */
  private admits(coseB64: string): boolean {
    if (this.entries.size < this.capacity) return true;
    if (!this.missed.has(coseB64)) {
      this.missed.add(coseB64);
      if (this.missed.size > this.capacity) this.missed.delete(this.missed.values().next().value!);
      return false;
    }
    if (this.now() - this.lastAdmission < this.admitIntervalMs) return false;
    this.missed.delete(coseB64);
    this.lastAdmission = this.now();
    this.entries.delete(this.entries.keys().next().value!);
    return true;
  }
}
