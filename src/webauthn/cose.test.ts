import { createECDH, createHash, createPrivateKey, createPublicKey, KeyObject, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64url } from '../core/bytes.ts';
import { importCoseKey, PublicKeyCache, verifyWithKey } from './cose.ts';

/** A COSE_Key (EC2, P-256, ES256) derived from `seed`, and a function that signs with its private key. */
function es256(seed: string): { cose: string; sign(data: Buffer): Buffer } {
  const ecdh = createECDH('prime256v1');
  const privateScalar = createHash('sha256').update(seed).digest();
  ecdh.setPrivateKey(privateScalar);
  const point = ecdh.getPublicKey();
  const cose = Buffer.concat([Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]), point.subarray(1, 33), Buffer.from([0x22, 0x58, 0x20]), point.subarray(33)]);
  const jwk = { kty: 'EC', crv: 'P-256', d: privateScalar.toString('base64url'), x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
  return { cose: base64url.encode(cose), sign: (data) => sign('sha256', data, { key: jwk, format: 'jwk' }) };
}

describe('PublicKeyCache', () => {
  it('imports a key once and verifies with it', () => {
    const cache = new PublicKeyCache(4);
    const signer = es256('a');
    const key = cache.get(signer.cose);
    expect(cache.get(signer.cose)).toBe(key);
    const data = Buffer.from('signed data');
    expect(verifyWithKey(key, data, signer.sign(data))).toBe(true);
  });

  it('when full, admits a key on its second miss and evicts the least recently used', () => {
    const cache = new PublicKeyCache(2, 0);
    const [a, b, c] = ['a', 'b', 'c'].map((s) => es256(s).cose) as [string, string, string];
    const keyA = cache.get(a);
    const keyB = cache.get(b);
    expect(cache.get(a)).toBe(keyA); // a is now the most recently used
    const firstC = cache.get(c); // full: c is not admitted on its first miss
    expect(cache.get(b)).toBe(keyB);
    expect(cache.get(a)).toBe(keyA);
    const secondC = cache.get(c); // second miss: admitted, evicting b (least recently used)
    expect(secondC).not.toBe(firstC);
    expect(cache.get(c)).toBe(secondC);
    expect(cache.get(a)).toBe(keyA);
    expect(cache.get(b)).not.toBe(keyB);
  });

  it('when full, admits at most one key per interval, and a refused second miss stays a candidate', () => {
    let now = 1_000;
    const cache = new PublicKeyCache(2, 100, () => now);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((s) => es256(s).cose) as [string, string, string, string];
    const keyA = cache.get(a);
    const keyB = cache.get(b);
    cache.get(c);
    cache.get(d); // first misses: candidates
    const admittedC = cache.get(c); // second miss: admitted (evicts a), and the interval starts
    expect(cache.get(c)).toBe(admittedC);
    now += 50;
    const refusedD = cache.get(d); // second miss inside the interval: not admitted
    expect(cache.get(d)).not.toBe(refusedD);
    expect(cache.get(b)).toBe(keyB);
    now += 50;
    const admittedD = cache.get(d); // the interval has passed: d is still a candidate and gets in, evicting c (b was used since)
    expect(cache.get(d)).toBe(admittedD);
    expect(cache.get(b)).toBe(keyB);
    expect(cache.get(c)).not.toBe(admittedC);
    expect(cache.get(a)).not.toBe(keyA);
  });

  it('with no room (KEYBOUND_PASSKEY_KEY_CACHE=0) imports on every call and keeps nothing', () => {
    const cache = new PublicKeyCache(0);
    const { cose } = es256('e');
    const first = cache.get(cose);
    const second = cache.get(cose);
    expect(second).not.toBe(first);
    expect(cache.get(cose)).not.toBe(second);
  });

  it('hands out keys it does not keep as DER, never as a KeyObject, and they verify alike', () => {
    const cache = new PublicKeyCache(1, 0);
    const kept = es256('kept');
    const passing = es256('passing');
    expect(cache.get(kept.cose).key).toBeInstanceOf(KeyObject);
    const once = cache.get(passing.cose); // full, first miss: not admitted
    expect(Buffer.isBuffer(once.key)).toBe(true);
    const data = Buffer.from('signed data');
    const signature = passing.sign(data);
    expect(verifyWithKey(once, data, signature)).toBe(true);
    expect(verifyWithKey(once, Buffer.from('other data'), signature)).toBe(false);
    expect(cache.get(passing.cose).key).toBeInstanceOf(KeyObject); // second miss: admitted, imported
    expect(new PublicKeyCache(0).get(passing.cose).key).toBeInstanceOf(Buffer);
  });
});

describe('importCoseKey', () => {
  const ed25519Cose = (x: Buffer) => Buffer.concat([Buffer.from([0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20]), x]);

  it('gives the same verdicts from DER (transient) as from a KeyObject, for ES256 and Ed25519', () => {
    const ec = es256('same');
    // An Ed25519 key from a fixed seed (PKCS #8 prefix of RFC 8410), not from generateKeyPairSync.
    const edPrivate = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), createHash('sha256').update('same').digest()]), format: 'der', type: 'pkcs8' });
    const edX = Buffer.from(createPublicKey(edPrivate).export({ format: 'der', type: 'spki' })).subarray(12);
    const data = Buffer.from('authenticator data and client data hash');
    const cases = [
      { cose: base64url.decode(ec.cose)!, signature: ec.sign(data) },
      { cose: ed25519Cose(edX), signature: sign(null, data, edPrivate) },
    ];
    for (const { cose: bytes, signature } of cases) {
      const imported = importCoseKey(bytes);
      const transient = importCoseKey(bytes, { transient: true });
      expect(imported.key).toBeInstanceOf(KeyObject);
      expect(Buffer.isBuffer(transient.key)).toBe(true);
      expect(createHash('sha256').update((imported.key as KeyObject).export({ format: 'der', type: 'spki' })).digest('hex')).toBe(createHash('sha256').update(transient.key as Buffer).digest('hex'));
      const tampered = Buffer.from(signature);
      tampered[tampered.length - 1]! ^= 1;
      for (const key of [imported, transient]) {
        expect(verifyWithKey(key, data, signature)).toBe(true);
        expect(verifyWithKey(key, data, tampered)).toBe(false);
      }
    }
  });

  it('a transient key whose point is off the curve verifies nothing and does not throw', () => {
    const signer = es256('off');
    const data = Buffer.from('signed data');
    const signature = signer.sign(data);
    const bytes = Buffer.from(base64url.decode(signer.cose)!);
    bytes[bytes.length - 1]! ^= 1; // y no longer fits x
    expect(() => importCoseKey(bytes)).toThrow(/cannot be imported/);
    const transient = importCoseKey(bytes, { transient: true });
    expect(verifyWithKey(transient, data, signature)).toBe(false);
  });
});
