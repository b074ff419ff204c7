/**
 * Issue 12, "Devices": the passkey a device link enrols never reaches above the level of the session
 * that made the link (NIST SP 800-63B-4 §4.1.2; DESIGN.md "Nothing binds an authenticator above the
 * level of the session that binds it"), on SQLite and PostgreSQL. AAL3 needs a trusted attestation
 * chain: a vendor root made here and configured in KEYBOUND_ATTESTATION_TRUST_ANCHORS.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite } from '../../src/services/invitations.ts';
import { sessionCookie, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { SoftAuthenticator, type Flags } from '../helpers/softAuthenticator.ts';
import { attestationLeaf, rootCa } from '../helpers/x509.ts';

const AAGUID = '4b657962-0000-0000-0000-0000000000d1';
const aaguidBytes = new Uint8Array(Buffer.from(AAGUID.replaceAll('-', ''), 'hex'));
const dir = mkdtempSync(join(tmpdir(), 'keybound-device-level-'));
const vendorRoot = rootCa('Test Vendor Attestation Root');
const vendorRootFile = join(dir, 'vendor-root.pem');
writeFileSync(vendorRootFile, vendorRoot.pem);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An authenticator whose packed attestation chains to the configured vendor root. */
function attested(flags: Flags = {}): SoftAuthenticator {
  const leaf = attestationLeaf({ issuer: vendorRoot, aaguid: aaguidBytes });
  return new SoftAuthenticator({ aaguid: aaguidBytes, flags, attestation: { x5c: [leaf.der], attestationKey: leaf.privateKey } });
}

describe.each(BACKENDS)('a device link is capped at its session\'s level on %s', (backend) => {
  let t: TestApp;
  let n = 0;
  beforeAll(async () => {
    t = await startTestApp({ backend, env: { KEYBOUND_ATTESTATION: 'direct', KEYBOUND_ATTESTATION_TRUST_ANCHORS: vendorRootFile } });
  });
  afterAll(async () => t?.close());

  async function enrolWith(authenticator: SoftAuthenticator) {
    const invited = await invite(t.deps, { username: `level-${++n}`, createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    const options = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: invited.value.token });
    const enrolled = await t.post('/api/v1/passkeys/registration/verify', { response: authenticator.create(options.json()) });
    expect(enrolled.statusCode, enrolled.body).toBe(201);
    return { cookie: sessionCookie(enrolled), aal: enrolled.json().aal as number, accountId: enrolled.json().account.id as string };
  }

  async function redeem(url: string, authenticator: SoftAuthenticator) {
    const options = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: url.split('/enrol/')[1] });
    expect(options.statusCode, options.body).toBe(200);
    return t.post('/api/v1/passkeys/registration/verify', { response: authenticator.create(options.json()) });
  }

  it('from an AAL2 session (syncable passkey), a device-bound passkey that would reach AAL3 is refused; the link stays usable for one at AAL2', async () => {
    const holder = await enrolWith(attested({ be: true, bs: true }));
    expect(holder.aal).toBe(2);
    const link = await t.post('/api/v1/devices/link', {}, holder.cookie);
    expect(link.statusCode, link.body).toBe(201);
    const { url } = link.json() as { url: string };
    const above = await redeem(url, attested());
    expect(above.statusCode, above.body).toBe(403);
    expect(above.json().error).toBe('passkey_above_session_level');
    expect(await t.store.passkeys.listByAccount(holder.accountId)).toHaveLength(1);
    // The refusal did not use the link up: a passkey at the session's level enrols with it.
    const atLevel = await redeem(url, attested({ be: true, bs: true }));
    expect(atLevel.statusCode, atLevel.body).toBe(201);
    expect(atLevel.json()).toMatchObject({ aal: 2 });
    expect(await t.store.passkeys.listByAccount(holder.accountId)).toHaveLength(2);
  });

  it('from an AAL3 session, the same device-bound passkey enrols at AAL3', async () => {
    const holder = await enrolWith(attested());
    expect(holder.aal).toBe(3);
    const { url } = (await t.post('/api/v1/devices/link', {}, holder.cookie)).json() as { url: string };
    const added = await redeem(url, attested());
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json()).toMatchObject({ aal: 3, acr: 'urn:keybound:aal3' });
  });
});
