/**
 * The demo relying party (src/demo) end to end: it signs in through Keybound, shows the acr/amr it
 * received, calls its sensitive API with an AAL2 token, gets the RFC 9470 challenge, sends the
 * person to step up with a device-bound passkey, and the action then succeeds at AAL3.
 */
import type { Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumVirtualAttestationRootFile } from '../helpers/chromiumAttestation.ts';
import { buildDemo } from '../../src/demo/app.ts';
import { addVirtualAuthenticator, enrolInBrowser, launchChromium, openBrowserPage } from '../helpers/browser.ts';
import { freePort, startServer, type ServerProcess } from '../helpers/server.ts';

const CHROMIUM_VIRTUAL_AAGUID = '01020304-0506-0708-0102-030405060708';

describe('the demo relying party', () => {
  let server: ServerProcess;
  let browser: Browser;
  let demo: FastifyInstance;
  let origin: string;

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    [server, browser] = await Promise.all([
      startServer({ env: { KEYBOUND_ATTESTATION: 'direct', KEYBOUND_ATTESTATION_AAGUIDS: CHROMIUM_VIRTUAL_AAGUID, KEYBOUND_ATTESTATION_TRUST_ANCHORS: chromiumVirtualAttestationRootFile(), KEYBOUND_OIDC_RESOURCES: `${origin}/api` } }),
      launchChromium(),
    ]);
    const created = await server.cliJson<{ client_id: string }>(['clients', 'create', '--name', 'Demo', '--public', '--redirect-uri', `${origin}/callback`, '--post-logout-redirect-uri', `${origin}/`, '--first-party', '--resource', `${origin}/api`, '--json']);
    demo = await buildDemo({ issuer: `${server.baseUrl}/oidc`, clientId: created.client_id, origin, requirement: { acr: 'urn:keybound:aal3', maxAgeS: 300 }, insecure: true });
    await demo.listen({ port, host: 'localhost' });
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await demo?.close();
    await server?.stop();
  });

  it('signs in at AAL2, is challenged by its API, steps up to AAL3 and completes the sensitive action', async () => {
    const context = await browser.newContext();
    // Enrolled with a device-bound security key (AAL3 with the trusted attestation), kept on its
    // own authenticator; a synced passkey is then added from that session (an enrolment link is for
    // accounts that have not enrolled yet, and a session only binds passkeys up to its own level).
    const { page, virtual: securityKey, errors } = await openBrowserPage(context, { transport: 'usb' });
    await enrolInBrowser(server, page, 'demo-dana', 'Security key');
    const [keyCredential] = (await securityKey.cdp.send('WebAuthn.getCredentials', { authenticatorId: securityKey.id })).credentials;
    await securityKey.remove();
    const synced = await addVirtualAuthenticator(page, { defaultBackupEligibility: true, defaultBackupState: true });
    await page.getByLabel('Add another passkey').fill('Phone');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(`${server.baseUrl}/account?changed=passkey-added`);
    expect(await page.locator('tr[data-passkey]').count()).toBe(2);
    // A sign-in with the synced passkey alone: AAL2, the session the demo starts from.
    await context.clearCookies();
    // On /login Chromium answers the passkey-autofill request at once with the only passkey present.
    await page.goto(`${server.baseUrl}/login`);
    await page.waitForURL(`${server.baseUrl}/account`);
    expect(await page.locator('[data-acr]').textContent()).toBe('AAL2');
    // The security key is back for the step-up, on its own authenticator, the only one present.
    const aal2Cookies = await context.cookies();
    await synced.remove();
    const returned = await addVirtualAuthenticator(page, { transport: 'usb' });
    await returned.cdp.send('WebAuthn.addCredential', { authenticatorId: returned.id, credential: keyCredential! });
    expect(await context.cookies()).toEqual(aal2Cookies);

    await page.goto(origin);
    await page.getByRole('link', { name: 'Sign in with Keybound' }).click();
    await page.waitForURL(`${origin}/`);
    expect(await page.locator('#acr').textContent()).toBe('urn:keybound:aal2:phr');
    expect(await page.locator('#amr').textContent()).toContain('swk');

    await page.getByRole('button', { name: 'Run the sensitive action' }).click();
    // The API's challenge sent the browser to Keybound, asking for AAL3.
    await page.waitForURL((u) => u.pathname.startsWith('/interaction/'));
    expect(await page.locator('body').textContent()).toContain('device-bound security key');
    await page.getByRole('button', { name: 'Continue with a passkey' }).click();
    await page.waitForURL(`${origin}/`);
    expect(await page.locator('#result').textContent()).toContain('The sensitive action succeeded');
    expect(await page.locator('#acr').textContent()).toBe('urn:keybound:aal3');
    expect(errors).toEqual([]);
  });
});
