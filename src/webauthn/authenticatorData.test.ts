import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCbor } from '../../test/helpers/cbor.ts';
import { AuthenticatorDataError, formatAaguid, MAX_CREDENTIAL_ID_BYTES, parseAuthenticatorData } from './authenticatorData.ts';

const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40, ED: 0x80 } as const;
const RP_ID_HASH = new Uint8Array(createHash('sha256').update('example.org').digest());
const AAGUID = new Uint8Array(Array.from({ length: 16 }, (_, i) => i + 1));
// An ES256 COSE_Key (RFC 9053): kty EC2, alg -7, crv P-256, x, y.
const COSE_KEY = encodeCbor(
  new Map<number, number | Uint8Array>([
    [1, 2],
    [3, -7],
    [-1, 1],
    [-2, new Uint8Array(32).fill(0xaa)],
    [-3, new Uint8Array(32).fill(0xbb)],
  ]),
);
const EXTENSIONS = encodeCbor(new Map([['credProtect', 2]]));

interface Parts {
  flags: number;
  signCount?: number;
  credentialId?: Uint8Array;
  /** Overrides the length field, to lie about the id's length. */
  idLength?: number;
  publicKey?: Uint8Array;
  extensions?: Uint8Array;
  trailing?: Uint8Array;
}

/** Authenticator data (WebAuthn §6.1) laid out byte by byte; fields are included when given. */
function authData(parts: Parts): Uint8Array {
  const out: number[] = [...RP_ID_HASH, parts.flags];
  const count = parts.signCount ?? 0;
  out.push((count >>> 24) & 0xff, (count >>> 16) & 0xff, (count >>> 8) & 0xff, count & 0xff);
  if (parts.credentialId) {
    const length = parts.idLength ?? parts.credentialId.byteLength;
    out.push(...AAGUID, (length >> 8) & 0xff, length & 0xff, ...parts.credentialId);
  }
  if (parts.publicKey) out.push(...parts.publicKey);
  if (parts.extensions) out.push(...parts.extensions);
  if (parts.trailing) out.push(...parts.trailing);
  return new Uint8Array(out);
}

const id = (length: number): Uint8Array => new Uint8Array(Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff));

function refuses(input: Uint8Array, pattern: RegExp): void {
  expect(() => parseAuthenticatorData(input)).toThrow(AuthenticatorDataError);
  expect(() => parseAuthenticatorData(input)).toThrow(pattern);
}

describe('parseAuthenticatorData: assertions (no attested credential)', () => {
  it('reads the RP ID hash, every flag and the big-endian sign count', () => {
    const parsed = parseAuthenticatorData(authData({ flags: FLAG.UP | FLAG.UV | FLAG.BE | FLAG.BS, signCount: 0x01020304 }));
    expect(parsed.rpIdHash).toEqual(RP_ID_HASH);
    expect(parsed.flags).toEqual({ up: true, uv: true, be: true, bs: true, at: false, ed: false });
    expect(parsed.signCount).toBe(0x01020304);
    expect(parsed.attestedCredential).toBeUndefined();
    expect(parsed.extensions).toBeUndefined();
  });

  it('reads a sign count with the top bit set as unsigned', () => {
    expect(parseAuthenticatorData(authData({ flags: FLAG.UP, signCount: 0xffffffff })).signCount).toBe(4294967295);
  });

  it('ignores the reserved flag bits', () => {
    const parsed = parseAuthenticatorData(authData({ flags: FLAG.UP | 0x02 | 0x20 }));
    expect(parsed.flags).toEqual({ up: true, uv: false, be: false, bs: false, at: false, ed: false });
  });

  it('reads data that sits at an offset inside a larger buffer', () => {
    const inner = authData({ flags: FLAG.UP, signCount: 9 });
    const outer = new Uint8Array(inner.byteLength + 10);
    outer.set(inner, 5);
    const parsed = parseAuthenticatorData(outer.subarray(5, 5 + inner.byteLength));
    expect(parsed.signCount).toBe(9);
    expect(parsed.rpIdHash).toEqual(RP_ID_HASH);
  });

  it('refuses data shorter than 37 bytes', () => {
    refuses(new Uint8Array(0), /shorter than 37/);
    refuses(authData({ flags: FLAG.UP }).subarray(0, 36), /shorter than 37/);
  });

  it('refuses bytes after the sign count when neither AT nor ED is set', () => {
    refuses(authData({ flags: FLAG.UP, trailing: new Uint8Array([0]) }), /1 unexpected trailing bytes/);
  });

  // WebAuthn L3 §6.1.3: "If BE is not set, BS must not be set"; §7.2 step 17 refuses such data.
  it('refuses BS without BE, and accepts BE with or without BS', () => {
    refuses(authData({ flags: FLAG.UP | FLAG.BS }), /backup state/);
    expect(parseAuthenticatorData(authData({ flags: FLAG.UP | FLAG.BE })).flags).toMatchObject({ be: true, bs: false });
    expect(parseAuthenticatorData(authData({ flags: FLAG.UP | FLAG.BE | FLAG.BS })).flags).toMatchObject({ be: true, bs: true });
  });
});

describe('parseAuthenticatorData: attested credential data', () => {
  it('reads the AAGUID, credential id and public key, and keeps the key bytes exactly', () => {
    const parsed = parseAuthenticatorData(authData({ flags: FLAG.UP | FLAG.AT, credentialId: id(16), publicKey: COSE_KEY }));
    const credential = parsed.attestedCredential!;
    expect(credential.aaguid).toEqual(AAGUID);
    expect(formatAaguid(credential.aaguid)).toBe('01020304-0506-0708-090a-0b0c0d0e0f10');
    expect(credential.credentialId).toEqual(id(16));
    expect(credential.publicKey).toEqual(COSE_KEY);
    expect(credential.publicKeyMap.get(3)).toBe(-7);
  });

  // §5.8.3 / §7.1 step 24 (L3): a credential id is at most 1023 bytes.
  it('accepts a 1023-byte credential id whole, and refuses 1024 bytes', () => {
    expect(MAX_CREDENTIAL_ID_BYTES).toBe(1023);
    const longest = id(1023);
    const parsed = parseAuthenticatorData(authData({ flags: FLAG.UP | FLAG.AT, credentialId: longest, publicKey: COSE_KEY }));
    expect(parsed.attestedCredential!.credentialId.byteLength).toBe(1023);
    expect(parsed.attestedCredential!.credentialId).toEqual(longest);
    refuses(authData({ flags: FLAG.UP | FLAG.AT, credentialId: id(1024), publicKey: COSE_KEY }), /1024 bytes exceeds 1023/);
  });

  it('refuses an empty credential id', () => {
    refuses(authData({ flags: FLAG.UP | FLAG.AT, credentialId: new Uint8Array(0), publicKey: COSE_KEY }), /empty credential id/);
  });

  it('refuses attested credential data cut short', () => {
    const full = authData({ flags: FLAG.UP | FLAG.AT, credentialId: id(16), publicKey: COSE_KEY });
    refuses(full.subarray(0, 37), /attested credential data truncated/);
    refuses(full.subarray(0, 37 + 17), /attested credential data truncated/);
    refuses(full.subarray(0, 37 + 18 + 8), /credential id truncated/);
    refuses(full.subarray(0, 37 + 18 + 16), /credential public key/);
    refuses(full.subarray(0, full.byteLength - 1), /credential public key/);
  });

  it('refuses a credential id length that runs past the end', () => {
    refuses(authData({ flags: FLAG.UP | FLAG.AT, credentialId: id(16), idLength: 900, publicKey: COSE_KEY }), /credential id truncated/);
  });

  it('refuses a public key that is not a CBOR map, or that CBOR refuses', () => {
    refuses(authData({ flags: FLAG.UP | FLAG.AT, credentialId: id(16), publicKey: encodeCbor([1, 2]) }), /not a CBOR map/);
    refuses(authData({ flags: FLAG.UP | FLAG.AT, credentialId: id(16), publicKey: new Uint8Array([0xbf, 0x01, 0x02, 0xff]) }), /indefinite/);
    refuses(authData({ flags: FLAG.UP | FLAG.AT, credentialId: id(16), publicKey: new Uint8Array([0xa2, 0x01, 0x02, 0x01, 0x02]) }), /repeated/);
    refuses(authData({ flags: FLAG.UP | FLAG.AT, credentialId: id(16), publicKey: new Uint8Array([0xa1, 0x01, 0xc0, 0x00]) }), /tags/);
  });

  it('refuses bytes after the public key when ED is not set', () => {
    refuses(authData({ flags: FLAG.UP | FLAG.AT, credentialId: id(16), publicKey: COSE_KEY, trailing: new Uint8Array([0, 0]) }), /2 unexpected trailing bytes/);
  });
});

describe('parseAuthenticatorData: extensions', () => {
  it('reads extensions after the attested credential data, and without it', () => {
    const registration = parseAuthenticatorData(authData({ flags: FLAG.UP | FLAG.AT | FLAG.ED, credentialId: id(16), publicKey: COSE_KEY, extensions: EXTENSIONS }));
    expect(registration.extensions?.get('credProtect')).toBe(2);
    expect(registration.attestedCredential!.publicKey).toEqual(COSE_KEY);
    const assertion = parseAuthenticatorData(authData({ flags: FLAG.UP | FLAG.ED, extensions: EXTENSIONS }));
    expect(assertion.extensions?.get('credProtect')).toBe(2);
  });

  it('refuses ED without extensions, extensions that are not a map, and bytes after them', () => {
    refuses(authData({ flags: FLAG.UP | FLAG.ED }), /extensions: CBOR data is truncated/);
    refuses(authData({ flags: FLAG.UP | FLAG.ED, extensions: encodeCbor('credProtect') }), /not a CBOR map/);
    refuses(authData({ flags: FLAG.UP | FLAG.ED, extensions: EXTENSIONS, trailing: new Uint8Array([0]) }), /trailing bytes/);
  });

  it('refuses extensions present while ED is not set', () => {
    refuses(authData({ flags: FLAG.UP, extensions: EXTENSIONS }), /unexpected trailing bytes/);
  });
});

describe('parseAuthenticatorData: hostile input', () => {
  it('never throws anything but AuthenticatorDataError, whatever follows a valid head', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 96 }), (flags, rest) => {
        const input = new Uint8Array([...RP_ID_HASH, flags, 0, 0, 0, 1, ...rest]);
        try {
          parseAuthenticatorData(input);
        } catch (error) {
          if (!(error instanceof AuthenticatorDataError)) throw error;
        }
      }),
      { numRuns: 5000 },
    );
  });
});
