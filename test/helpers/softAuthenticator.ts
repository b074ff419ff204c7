import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { encodeCbor, type Encodable } from './cbor.ts';

const b64u = (bytes: Uint8Array | Buffer) => Buffer.from(bytes).toString('base64url');

/**
 * A new key pair whose KeyObjects are not the ones the key-generation job made. On Node.js 20, a
 * garbage collection inside `export({ format: 'jwk' })` of a key fresh from `generateKeyPairSync` can
 * deadlock the process (the finished job's destructor takes the lock of the key being exported; seen
 * here as a test worker hanging on a futex). Keys rebuilt from DER have locks of their own.
 */
export function freshKeyPair(alg: SoftAlg): { publicKey: KeyObject; privateKey: KeyObject } {
  const publicKeyEncoding = { type: 'spki', format: 'der' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'der' } as const;
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding, privateKeyEncoding })
      : generateKeyPairSync('ed25519', { publicKeyEncoding, privateKeyEncoding });
  return {
    publicKey: createPublicKey({ key: pair.publicKey, format: 'der', type: 'spki' }),
    privateKey: createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' }),
  };
}

export type SoftAlg = 'ES256' | 'Ed25519';

/**
 * A `packed` attestation statement (WebAuthn L3 §8.2) for `create()`: with `x5c` the attestation
 * key (the leaf's private key) signs; without, the credential key signs itself (self attestation).
 * `alg` defaults to the credential key's algorithm.
 */
export interface PackedAttestation {
  readonly alg?: number;
  readonly x5c?: readonly Uint8Array[];
  readonly attestationKey?: KeyObject;
}

export interface Flags {
  up?: boolean;
  uv?: boolean;
  be?: boolean;
  bs?: boolean;
}

/** Per-call faults a test can inject into one response. */
export interface Tamper {
  origin?: string;
  rpId?: string;
  type?: string;
  challenge?: string;
  flags?: Flags;
  signCount?: number;
  crossOrigin?: boolean;
  topOrigin?: string;
  /** Flip a bit of the signature. */
  badSignature?: boolean;
  credentialId?: Uint8Array;
  userHandle?: string | null;
}

interface Credential {
  id: Uint8Array;
  privateKey: KeyObject;
  cose: Uint8Array;
  userHandle: string;
  signCount: number;
}

/**
 * A software WebAuthn authenticator for tests: real keys (node:crypto ES256 or Ed25519), real
 * signatures, `none` attestation, and knobs for every fault a relying party must refuse.
 */
export class SoftAuthenticator {
  readonly credentials: Credential[] = [];
  readonly alg: SoftAlg;
  readonly flags: Required<Flags>;
  readonly aaguid: Uint8Array;
  /** Added to the sign count on each assertion; 0 models passkeys that never count. */
  counterStep: number;
  origin: string;
  rpId: string;
  /** Statement `create()` sends; `null` sends `none`. */
  attestation: PackedAttestation | null;

  constructor(options: { alg?: SoftAlg; flags?: Flags; aaguid?: Uint8Array; counterStep?: number; origin?: string; rpId?: string; attestation?: PackedAttestation } = {}) {
    this.alg = options.alg ?? 'ES256';
    this.flags = { up: true, uv: true, be: false, bs: false, ...options.flags };
    this.aaguid = options.aaguid ?? new Uint8Array(16);
    this.counterStep = options.counterStep ?? 1;
    this.origin = options.origin ?? 'http://localhost:8080';
    this.rpId = options.rpId ?? 'localhost';
    this.attestation = options.attestation ?? null;
  }

  get credential(): Credential {
    const c = this.credentials[this.credentials.length - 1];
    if (!c) throw new Error('no credential yet');
    return c;
  }

  /** navigator.credentials.create(): returns a RegistrationResponseJSON. */
  create(options: { challenge: string; user: { id: string }; rp?: { id?: string } }, tamper: Tamper = {}) {
    const { publicKey, privateKey } = freshKeyPair(this.alg);
    const jwk = publicKey.export({ format: 'jwk' });
    const cose =
      this.alg === 'ES256'
        ? encodeCbor(new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]))
        : encodeCbor(new Map<number, number | Uint8Array>([[1, 1], [3, -8], [-1, 6], [-2, Buffer.from(jwk.x!, 'base64url')]]));
    const id = tamper.credentialId ?? new Uint8Array(randomBytes(32));
    const credential: Credential = { id, privateKey, cose, userHandle: options.user.id, signCount: 0 };
    const rpId = tamper.rpId ?? options.rp?.id ?? this.rpId;
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, tamper);
    const attested = Buffer.concat([Buffer.from(this.aaguid), Buffer.from([id.length >> 8, id.length & 0xff]), Buffer.from(id), Buffer.from(cose)]);
    const authData = Buffer.concat([this.authDataHead(rpId, { ...tamper.flags }, 0, 0x40), attested]);
    const attestationObject = encodeCbor(new Map<string, Encodable>([...this.statement(authData, clientDataJSON, privateKey), ['authData', new Uint8Array(authData)]]));
    this.credentials.push(credential);
    return {
      id: b64u(id),
      rawId: b64u(id),
      type: 'public-key' as const,
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
    };
  }

  /** navigator.credentials.get(): returns an AuthenticationResponseJSON signed by the newest (or given) credential. */
  get(options: { challenge: string; rpId?: string }, tamper: Tamper = {}, credential: Credential = this.credential) {
    credential.signCount += this.counterStep;
    const count = tamper.signCount ?? credential.signCount;
    const rpId = tamper.rpId ?? options.rpId ?? this.rpId;
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, tamper);
    const authData = this.authDataHead(rpId, { ...tamper.flags }, count, 0);
    const signed = Buffer.concat([authData, createHash('sha256').update(clientDataJSON).digest()]);
    const signature = this.alg === 'ES256' ? sign('sha256', signed, credential.privateKey) : sign(null, signed, credential.privateKey);
    if (tamper.badSignature) signature[signature.length - 1]! ^= 0x01;
    const id = tamper.credentialId ?? credential.id;
    const userHandle = tamper.userHandle === undefined ? credential.userHandle : tamper.userHandle;
    return {
      id: b64u(id),
      rawId: b64u(id),
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(userHandle !== null ? { userHandle } : {}),
      },
      clientExtensionResults: {},
    };
  }

  private statement(authData: Buffer, clientDataJSON: Buffer, credentialKey: KeyObject): [string, Encodable][] {
    const a = this.attestation;
    if (!a) return [['fmt', 'none'], ['attStmt', new Map()]];
    const signed = Buffer.concat([authData, createHash('sha256').update(clientDataJSON).digest()]);
    const key = a.attestationKey ?? credentialKey;
    const signature = key.asymmetricKeyType === 'ed25519' ? sign(null, signed, key) : sign('sha256', signed, key);
    const attStmt = new Map<string, Encodable>([['alg', a.alg ?? (this.alg === 'ES256' ? -7 : -8)], ['sig', new Uint8Array(signature)]]);
    if (a.x5c) attStmt.set('x5c', a.x5c.map((c) => new Uint8Array(c)));
    return [['fmt', 'packed'], ['attStmt', attStmt]];
  }

  private clientData(type: string, challenge: string, tamper: Tamper): Buffer {
    return Buffer.from(
      JSON.stringify({
        type: tamper.type ?? type,
        challenge: tamper.challenge ?? challenge,
        origin: tamper.origin ?? this.origin,
        crossOrigin: tamper.crossOrigin ?? false,
        ...(tamper.topOrigin ? { topOrigin: tamper.topOrigin } : {}),
      }),
    );
  }

  private authDataHead(rpId: string, flags: Flags, signCount: number, extraFlags: number): Buffer {
    const f = { ...this.flags, ...flags };
    const byte = (f.up ? 0x01 : 0) | (f.uv ? 0x04 : 0) | (f.be ? 0x08 : 0) | (f.bs ? 0x10 : 0) | extraFlags;
    const head = Buffer.alloc(37);
    createHash('sha256').update(rpId).digest().copy(head, 0);
    head[32] = byte;
    head.writeUInt32BE(signCount >>> 0, 33);
    return head;
  }
}
