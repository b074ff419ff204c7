/**
 * A small X.509 v3 certificate builder for tests (RFC 5280 §4.1, DER): enough to make attestation
 * roots, intermediates and leaves, and MDS BLOB signing chains, at test time with node:crypto keys.
 * ECDSA P-256 with SHA-256 only.
 */
import { createPublicKey, generateKeyPairSync, createPrivateKey, sign, X509Certificate, type KeyObject } from 'node:crypto';

const tlv = (tag: number, body: Uint8Array): Uint8Array => {
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return new Uint8Array([tag, ...length, ...body]);
};
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const seq = (...parts: Uint8Array[]) => tlv(0x30, concat(...parts));
const set = (...parts: Uint8Array[]) => tlv(0x31, concat(...parts));
const octets = (bytes: Uint8Array) => tlv(0x04, bytes);
const bits = (bytes: Uint8Array) => tlv(0x03, concat(new Uint8Array([0]), bytes));
const bool = (value: boolean) => tlv(0x01, new Uint8Array([value ? 0xff : 0]));
const explicit = (n: number, body: Uint8Array) => tlv(0xa0 + n, body);
const integer = (value: bigint): Uint8Array => {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
};
const oid = (dotted: string): Uint8Array => {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, new Uint8Array(out));
};
const time = (ms: number): Uint8Array => {
  const iso = new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return tlv(0x18, new TextEncoder().encode(iso)); // GeneralizedTime, valid for any year
};

/** Distinguished name attributes, in order. */
export interface Name {
  readonly C?: string;
  readonly O?: string;
  readonly OU?: string;
  readonly CN: string;
}
const NAME_OIDS: Record<keyof Name, string> = { C: '2.5.4.6', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' };
const name = (n: Name): Uint8Array =>
  seq(
    ...(['C', 'O', 'OU', 'CN'] as const)
      .filter((k) => n[k] !== undefined)
      .map((k) => set(seq(oid(NAME_OIDS[k]), k === 'C' ? tlv(0x13, new TextEncoder().encode(n[k]!)) : tlv(0x0c, new TextEncoder().encode(n[k]!))))),
  );

export interface CertificateSpec {
  readonly subject: Name;
  /** The issuer's name and key; omitted for a self-signed certificate. */
  readonly issuer?: { readonly name: Name; readonly privateKey: KeyObject };
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  readonly ca: boolean;
  /** FIDO id-fido-gen-ce-aaguid (1.3.6.1.4.1.45724.1.1.4), 16 bytes. */
  readonly aaguid?: Uint8Array;
  readonly notBefore?: number;
  readonly notAfter?: number;
  readonly serial?: bigint;
}

export interface TestCertificate {
  readonly der: Uint8Array;
  readonly pem: string;
  readonly name: Name;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

/** A P-256 key pair rebuilt from DER (see softAuthenticator.ts `freshKeyPair` for why). */
export function p256(): { publicKey: KeyObject; privateKey: KeyObject } {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } });
  return { publicKey: createPublicKey({ key: pair.publicKey, format: 'der', type: 'spki' }), privateKey: createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' }) };
}

let serials = 1n;

/** Builds and signs one certificate. */
export function certificate(spec: CertificateSpec): TestCertificate {
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const extensions = [seq(oid('2.5.29.19'), bool(true), octets(seq(...(spec.ca ? [bool(true)] : []))))];
  if (spec.ca) extensions.push(seq(oid('2.5.29.15'), bool(true), octets(bits(new Uint8Array([0x06]))))); // keyCertSign, cRLSign
  if (spec.aaguid) extensions.push(seq(oid('1.3.6.1.4.1.45724.1.1.4'), octets(octets(spec.aaguid))));
  const tbs = seq(
    explicit(0, integer(2n)),
    integer(spec.serial ?? serials++),
    ecdsaSha256,
    name(spec.issuer?.name ?? spec.subject),
    seq(time(spec.notBefore ?? Date.UTC(2020, 0, 1)), time(spec.notAfter ?? Date.UTC(2045, 0, 1))),
    name(spec.subject),
    new Uint8Array(spec.publicKey.export({ type: 'spki', format: 'der' })),
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, spec.issuer?.privateKey ?? spec.privateKey);
  const der = seq(tbs, ecdsaSha256, bits(signature));
  const pem = new X509Certificate(der).toString();
  return { der, pem, name: spec.subject, publicKey: spec.publicKey, privateKey: spec.privateKey };
}

/** A self-signed CA. */
export function rootCa(cn: string): TestCertificate {
  return certificate({ subject: { C: 'US', O: 'Keybound Tests', CN: cn }, ...p256(), ca: true });
}

/** A packed attestation leaf (WebAuthn L3 §8.2.1 requirements) issued by `issuer`, or self-signed. */
export function attestationLeaf(options: { issuer?: TestCertificate; aaguid?: Uint8Array; cn?: string } = {}): TestCertificate {
  return certificate({
    subject: { C: 'US', O: 'Keybound Tests', OU: 'Authenticator Attestation', CN: options.cn ?? 'Test Authenticator' },
    ...(options.issuer ? { issuer: { name: options.issuer.name, privateKey: options.issuer.privateKey } } : {}),
    ...p256(),
    ca: false,
    ...(options.aaguid ? { aaguid: options.aaguid } : {}),
  });
}
