/**
 * The attestation root of Chromium's CDP virtual authenticator, for browser tests that need AAL3.
 *
 * Its `packed` attestation carries one self-signed certificate, "C=US, O=Chromium, OU=Authenticator
 * Attestation, CN=Batch Certificate", made per registration and signed with a fixed key: the example
 * attestation key of the FIDO U2F raw message formats specification (§8.1, "Registration Example"),
 * a published test key. Keybound trusts no self-signed leaf (issue 10, finding 1), so the tests
 * configure what a vendor would publish: a root certificate with that name and key, made here with
 * the published private key and written to a PEM file for KEYBOUND_ATTESTATION_TRUST_ANCHORS.
 * Seen with Debian's Chromium: the leaf's key is the U2F example key and its issuer is its subject.
 */
import { createECDH, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificate } from './x509.ts';

/** The U2F specification's example attestation private key (P-256 scalar), public test data. */
const U2F_EXAMPLE_ATTESTATION_KEY = 'f3fccc0d00d8031954f90864d43c247f4bf5f0665c6b50cc17749a27d1cf7664';

/** Writes the root to a new temporary PEM file and returns its path. */
export function chromiumVirtualAttestationRootFile(): string {
  const ecdh = createECDH('prime256v1');
  const d = Buffer.from(U2F_EXAMPLE_ATTESTATION_KEY, 'hex');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey();
  const jwk = { kty: 'EC', crv: 'P-256', d: d.toString('base64url'), x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  const root = certificate({
    subject: { C: 'US', O: 'Chromium', OU: 'Authenticator Attestation', CN: 'Batch Certificate' },
    publicKey: createPublicKey(privateKey),
    privateKey,
    ca: true,
  });
  const path = join(mkdtempSync(join(tmpdir(), 'keybound-chromium-root-')), 'chromium-virtual-authenticator-root.pem');
  writeFileSync(path, root.pem);
  return path;
}
