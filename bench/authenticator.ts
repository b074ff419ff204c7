/**
 * The benchmark's software authenticators: one ES256 (P-256) passkey per seeded account, derived
 * from a run secret and the account's index, so the seeder (which writes the public half into the
 * database) and the load generator (which signs with the private half) agree without sharing a
 * key file. Every account has its own credential id, user handle and key pair: no key is shared
 * between accounts, so the server's per-credential key cache behaves as it would with real users.
 *
 * Same wire format as test/helpers/softAuthenticator.ts (packed authenticator data, `none`
 * attestation), without the fault-injection knobs the benchmark does not need.
 */
import { createECDH, createHash, createHmac, createPrivateKey, sign, type KeyObject } from 'node:crypto';

export interface BenchCredential {
  readonly index: number;
  /** 32 bytes, base64url. */
  readonly credentialId: string;
  /** 32 bytes, base64url (the WebAuthn user handle). */
  readonly userHandle: string;
  /** COSE_Key of the public key (EC2, P-256, ES256). */
  readonly cose: Uint8Array;
  /** Uncompressed public point 04||x||y. */
  readonly publicPoint: Uint8Array;
  /** Private scalar (32 bytes). */
  readonly privateScalar: Uint8Array;
}

const ecdh = createECDH('prime256v1');

function derive(secret: Uint8Array, label: string, index: number): Buffer {
  return createHmac('sha256', secret).update(`${label}:${index}`).digest();
}

/** The credential of account `index` under `secret`: deterministic, about 35 µs (one scalar multiplication). */
export function benchCredential(secret: Uint8Array, index: number): BenchCredential {
  let privateScalar: Buffer | undefined;
  let publicPoint: Buffer | undefined;
  // A 256-bit HMAC output is a valid P-256 scalar except with probability about 2^-32; retry then.
  for (let attempt = 0; !publicPoint; attempt++) {
    privateScalar = createHash('sha256').update(derive(secret, 'key', index)).update(String(attempt)).digest();
    try {
      ecdh.setPrivateKey(privateScalar);
      publicPoint = ecdh.getPublicKey();
    } catch {
      if (attempt > 8) throw new Error(`cannot derive a key for account ${index}`);
    }
  }
  return {
    index,
    credentialId: derive(secret, 'credential', index).toString('base64url'),
    userHandle: derive(secret, 'user', index).toString('base64url'),
    cose: coseEs256(publicPoint),
    publicPoint,
    privateScalar: privateScalar!,
  };
}

/** The username of seeded account `index` (zero-padded, so usernames sort in seeding order). */
export function benchUsername(index: number): string {
  return `bench-${String(index).padStart(8, '0')}`;
}

/** The TOTP seed (20 bytes, as authenticator apps get for SHA-1) of seeded account `index`. */
export function benchTotpSeed(secret: Uint8Array, index: number): Uint8Array {
  return derive(secret, 'totp', index).subarray(0, 20);
}

/** RFC 6238 TOTP for time step `step`: HMAC-SHA-1, 6 digits (RFC 4226 §5.3 dynamic truncation). */
export function totpCode(seed: Uint8Array, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', seed).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const value = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(value % 1_000_000).padStart(6, '0');
}

/** COSE_Key {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}, canonical CBOR as authenticators send it. */
export function coseEs256(point: Uint8Array): Uint8Array {
  const out = new Uint8Array(77);
  out.set([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20], 0);
  out.set(point.subarray(1, 33), 10);
  out.set([0x22, 0x58, 0x20], 42);
  out.set(point.subarray(33, 65), 45);
  return out;
}

/** A signing key for `credential`, imported once (about 130 µs) and reused for every assertion. */
export function signingKey(credential: BenchCredential): KeyObject {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
  return createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: b64(credential.privateScalar),
      x: b64(credential.publicPoint.subarray(1, 33)),
      y: b64(credential.publicPoint.subarray(33, 65)),
    },
    format: 'jwk',
  });
}

/** An AuthenticationResponseJSON, as `navigator.credentials.get()` would hand it to the page. */
export interface AssertionJson {
  readonly id: string;
  readonly rawId: string;
  readonly type: 'public-key';
  readonly response: { readonly clientDataJSON: string; readonly authenticatorData: string; readonly signature: string; readonly userHandle: string };
  readonly clientExtensionResults: Record<string, never>;
  readonly authenticatorAttachment: 'platform';
}

const rpIdHashes = new Map<string, Buffer>();

/**
 * Signs an assertion for `challenge` with flags UP and UV set and BE clear (a device-bound passkey),
 * and the given sign count.
 */
export function assertion(
  credential: BenchCredential,
  key: KeyObject,
  input: { challenge: string; origin: string; rpId: string; signCount: number },
): AssertionJson {
  let rpIdHash = rpIdHashes.get(input.rpId);
  if (!rpIdHash) {
    rpIdHash = createHash('sha256').update(input.rpId).digest();
    rpIdHashes.set(input.rpId, rpIdHash);
  }
  const authData = Buffer.alloc(37);
  rpIdHash.copy(authData, 0);
  authData[32] = 0x01 | 0x04; // UP | UV
  authData.writeUInt32BE(input.signCount >>> 0, 33);
  const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: input.challenge, origin: input.origin, crossOrigin: false }));
  const signed = Buffer.concat([authData, createHash('sha256').update(clientDataJSON).digest()]);
  const signature = sign('sha256', signed, key);
  return {
    id: credential.credentialId,
    rawId: credential.credentialId,
    type: 'public-key',
    response: {
      clientDataJSON: clientDataJSON.toString('base64url'),
      authenticatorData: authData.toString('base64url'),
      signature: signature.toString('base64url'),
      userHandle: credential.userHandle,
    },
    clientExtensionResults: {},
    authenticatorAttachment: 'platform',
  };
}
