/**
 * Assurance evidence (issue 10, findings 1–4) through the JSON API: attestation trust only from a
 * verified chain (configured anchors or imported FIDO metadata), the AAGUID allow-list narrowing it,
 * packed self attestation's `alg`, `amr` `hwk` only for trusted keys, and no binding above the
 * session's level. Certificates and metadata BLOBs are made in the test (test/helpers/x509.ts, mds.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMetadata } from '../../src/services/attestationMetadata.ts';
import { invite } from '../../src/services/invitations.ts';
import { sessionCookie, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { freshDatabase } from '../helpers/db.ts';
import { mdsBlob, mdsEntry, mdsSigner } from '../helpers/mds.ts';
import { SoftAuthenticator, type Flags, type PackedAttestation } from '../helpers/softAuthenticator.ts';
import { attestationLeaf, rootCa, type TestCertificate } from '../helpers/x509.ts';

const AAGUID = '4b657962-0000-0000-0000-000000000001';
const OTHER_AAGUID = '4b657962-0000-0000-0000-000000000002';
const COMPROMISED_AAGUID = '4b657962-0000-0000-0000-000000000003';
const bytes = (aaguid: string) => new Uint8Array(Buffer.from(aaguid.replaceAll('-', ''), 'hex'));

const dir = mkdtempSync(join(tmpdir(), 'keybound-attestation-'));
const vendorRoot = rootCa('Test Vendor Attestation Root');
const vendorRootFile = join(dir, 'vendor-root.pem');
writeFileSync(vendorRootFile, vendorRoot.pem);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An authenticator whose packed attestation is signed by `leaf` (full) or by itself (self). */
function attested(aaguid: string, leaf: TestCertificate | null, flags: Flags = {}, extra: Partial<PackedAttestation> = {}): SoftAuthenticator {
  const attestation: PackedAttestation = leaf ? { x5c: [leaf.der], attestationKey: leaf.privateKey, ...extra } : { ...extra };
  return new SoftAuthenticator({ aaguid: bytes(aaguid), flags, attestation });
}

async function register(t: TestApp, username: string, authenticator: SoftAuthenticator) {
  const invited = await invite(t.deps, { username, createdBy: 'test' });
  if (!invited.ok) throw new Error(invited.code);
  const options = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: invited.value.token });
  expect(options.statusCode).toBe(200);
  return t.post('/api/v1/passkeys/registration/verify', { response: authenticator.create(options.json()) });
}

describe('attestation trust with KEYBOUND_ATTESTATION=direct and an AAGUID allow-list', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { KEYBOUND_ATTESTATION: 'direct', KEYBOUND_ATTESTATION_AAGUIDS: `${AAGUID},${COMPROMISED_AAGUID}` } });
  });
  afterAll(async () => t?.close());

  it('finding 1: a self-signed attestation certificate on an allow-listed AAGUID is not trusted', async () => {
    // OU "Authenticator Attestation", CA:FALSE, the AAGUID extension: everything a genuine leaf has,
    // but issued by itself, so nothing vouches for it.
    const selfMade = attestationLeaf({ aaguid: bytes(AAGUID) });
    const response = await register(t, 'self-made', attested(AAGUID, selfMade));
    expect(response.statusCode, response.body).toBe(403);
    expect(response.json()).toMatchObject({ error: 'passkey_attestation_untrusted' });
  });

  it('finding 1: MDS import verifies the BLOB offline and trusts chains to the roots its entries list, for allow-listed models only', async () => {
    const leaf = attestationLeaf({ issuer: vendorRoot, aaguid: bytes(AAGUID) });
    // Before any metadata: the vendor root is configured nowhere, so the chain anchors nowhere.
    expect((await register(t, 'mds-before', attested(AAGUID, leaf))).json()).toMatchObject({ error: 'passkey_attestation_untrusted' });

    const fido = mdsSigner();
    const entries = [mdsEntry({ aaguid: AAGUID, roots: [vendorRoot] }), mdsEntry({ aaguid: OTHER_AAGUID, roots: [vendorRoot] })];
    const imported = await importMetadata(t.deps, { blob: await mdsBlob(fido, { no: 7, entries }), roots: [fido.root.pem] });
    expect(imported).toMatchObject({ ok: true, value: { no: 7, nextUpdate: '2027-01-01', entries: 2 } });

    const trusted = await register(t, 'mds-after', attested(AAGUID, attestationLeaf({ issuer: vendorRoot, aaguid: bytes(AAGUID) })));
    expect(trusted.statusCode, trusted.body).toBe(201);
    expect(trusted.json()).toMatchObject({ aal: 3, acr: 'urn:keybound:aal3' });
    expect([...trusted.json().amr].sort()).toEqual(['hwk', 'mfa', 'pop', 'user']);

    // The allow-list narrows: a model MDS vouches for, but not on the list, is refused.
    const other = await register(t, 'mds-not-listed', attested(OTHER_AAGUID, attestationLeaf({ issuer: vendorRoot, aaguid: bytes(OTHER_AAGUID) })));
    expect(other.json()).toMatchObject({ error: 'passkey_attestation_untrusted' });
    // Still no trust for a self-made certificate, metadata or not.
    const selfMade = await register(t, 'mds-self-made', attested(AAGUID, attestationLeaf({ aaguid: bytes(AAGUID) })));
    expect(selfMade.json()).toMatchObject({ error: 'passkey_attestation_untrusted' });
  });

  it('finding 1: MDS import refuses a BLOB not chained to the given root, a tampered one, and one not newer than the last', async () => {
    const fido = mdsSigner();
    const blob = await mdsBlob(fido, { no: 100, entries: [mdsEntry({ aaguid: AAGUID, roots: [vendorRoot] })] });
    expect(await importMetadata(t.deps, { blob, roots: [rootCa('Someone Else').pem] })).toMatchObject({ ok: false, code: 'metadata_blob_invalid' });
    const [header, payload, signature] = blob.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), no: 101 })).toString('base64url');
    expect(await importMetadata(t.deps, { blob: `${header}.${forged}.${signature}`, roots: [fido.root.pem] })).toMatchObject({ ok: false, code: 'metadata_blob_invalid' });
    expect(await importMetadata(t.deps, { blob, roots: [fido.root.pem] })).toMatchObject({ ok: true, value: { no: 100 } });
    expect(await importMetadata(t.deps, { blob, roots: [fido.root.pem] })).toMatchObject({ ok: false, code: 'metadata_blob_not_newer' });
  });

  it('finding 1: MDS import: an authenticator whose status report says it is compromised is refused', async () => {
    const fido = mdsSigner();
    const entries = [mdsEntry({ aaguid: AAGUID, roots: [vendorRoot] }), mdsEntry({ aaguid: COMPROMISED_AAGUID, roots: [vendorRoot], statuses: ['FIDO_CERTIFIED_L1', 'ATTESTATION_KEY_COMPROMISE'] })];
    expect(await importMetadata(t.deps, { blob: await mdsBlob(fido, { no: 1000, entries }), roots: [fido.root.pem] })).toMatchObject({ ok: true });
    const response = await register(t, 'compromised', attested(COMPROMISED_AAGUID, attestationLeaf({ issuer: vendorRoot, aaguid: bytes(COMPROMISED_AAGUID) })));
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ error: 'passkey_authenticator_compromised' });
  });
});

describe('attestation trust with a configured vendor root (KEYBOUND_ATTESTATION_TRUST_ANCHORS)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { KEYBOUND_ATTESTATION: 'direct', KEYBOUND_ATTESTATION_TRUST_ANCHORS: vendorRootFile } });
  });
  afterAll(async () => t?.close());

  it('finding 1: a chain to a configured root is trusted and reaches AAL3; a self-signed one is not', async () => {
    const ok = await register(t, 'anchored', attested(AAGUID, attestationLeaf({ issuer: vendorRoot, aaguid: bytes(AAGUID) })));
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ aal: 3, acr: 'urn:keybound:aal3' });
    const selfMade = await register(t, 'anchored-self-made', attested(AAGUID, attestationLeaf({ aaguid: bytes(AAGUID) })));
    expect(selfMade.json()).toMatchObject({ error: 'passkey_attestation_untrusted' });
  });

  it('finding 4: an AAL2 syncable-passkey session cannot bind a passkey that would reach AAL3', async () => {
    const syncable = attested(AAGUID, attestationLeaf({ issuer: vendorRoot, aaguid: bytes(AAGUID) }), { be: true, bs: true });
    const enrolled = await register(t, 'binding-up', syncable);
    expect(enrolled.statusCode, enrolled.body).toBe(201);
    expect(enrolled.json()).toMatchObject({ aal: 2 });
    const cookie = sessionCookie(enrolled);
    const add = async (authenticator: SoftAuthenticator) => {
      const options = await t.post('/api/v1/passkeys/registration/options', {}, cookie);
      expect(options.statusCode, options.body).toBe(200);
      return t.post('/api/v1/passkeys/registration/verify', { response: authenticator.create(options.json()) }, cookie);
    };
    const deviceBound = await add(attested(AAGUID, attestationLeaf({ issuer: vendorRoot, aaguid: bytes(AAGUID) })));
    expect(deviceBound.statusCode, deviceBound.body).toBe(403);
    expect(deviceBound.json()).toMatchObject({ error: 'passkey_above_session_level', message: expect.stringMatching(/enrolment link.*sign in with a passkey at that level/s) });
    expect(await t.store.passkeys.listByAccount(enrolled.json().account.id)).toHaveLength(1);
    // At or below the session's level is fine: another syncable passkey (AAL2).
    const another = await add(attested(AAGUID, attestationLeaf({ issuer: vendorRoot, aaguid: bytes(AAGUID) }), { be: true, bs: true }));
    expect(another.statusCode, another.body).toBe(201);
  });
});

describe('attestation statements and amr under the default policy (KEYBOUND_ATTESTATION=none)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it("finding 2: a packed self attestation whose alg is not the credential key's algorithm is refused", async () => {
    // The credential key is ES256 (-7); the statement claims RS256 (-257) over a valid ES256 signature.
    const response = await register(t, 'self-alg-mismatch', attested(AAGUID, null, {}, { alg: -257 }));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'passkey_attestation_invalid' });
    const matching = await register(t, 'self-alg-match', attested(AAGUID, null));
    expect(matching.statusCode, matching.body).toBe(201);
  });

  it('finding 3: an untrusted device-bound passkey says only what was proven (no hwk)', async () => {
    const response = await register(t, 'no-hwk', attested(AAGUID, attestationLeaf({ issuer: vendorRoot, aaguid: bytes(AAGUID) })));
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ aal: 2, passkey: { kind: 'device-bound' } });
    expect([...response.json().amr].sort()).toEqual(['mfa', 'pop', 'user']);
  });
});

describe('keybound attestation import-mds', () => {
  const run = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const bin = new URL('../../bin/keybound.js', import.meta.url).pathname;
      execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
    });

  it('finding 1: MDS import from the command line verifies the BLOB against --root and stores its entries', async () => {
    const database = await freshDatabase('sqlite');
    try {
      const env = { KEYBOUND_DATABASE_URL: database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS };
      const fido = mdsSigner();
      const blobFile = join(dir, 'blob.jwt');
      const rootFile = join(dir, 'fido-root.pem');
      const wrongRootFile = join(dir, 'wrong-root.pem');
      writeFileSync(blobFile, await mdsBlob(fido, { no: 42, nextUpdate: '2027-02-01', entries: [mdsEntry({ aaguid: AAGUID, roots: [vendorRoot] })] }));
      writeFileSync(rootFile, fido.root.pem);
      writeFileSync(wrongRootFile, rootCa('Not FIDO').pem);
      const refused = await run(['attestation', 'import-mds', blobFile, '--root', wrongRootFile], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/did not verify: its x5c chain does not verify to the root given with --root/);
      const imported = await run(['attestation', 'import-mds', blobFile, '--root', rootFile, '--json'], env);
      expect(imported.code, imported.stderr).toBe(0);
      expect(JSON.parse(imported.stdout)).toEqual({ no: 42, nextUpdate: '2027-02-01', entries: 1 });
      const again = await run(['attestation', 'import-mds', blobFile], { ...env, KEYBOUND_ATTESTATION_MDS_ROOT: rootFile });
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/same or a higher number is already imported/);
    } finally {
      await database.drop();
    }
  });
});
