/**
 * Issue 3, required test 2: step-up through `acr_values` and `max_age`, in headless Chromium with
 * CDP virtual authenticators, openid-client as the relying party. Attestation policy trusts the
 * virtual authenticator's model: its packed x5c chain verifies to its root, configured as a trust
 * anchor (test/helpers/chromiumAttestation.ts), and its AAGUID is allow-listed; so a device-bound
 * passkey from it reaches AAL3 and a syncable one (BE=1) never does.
 */
import type { Browser } from 'playwright-core';
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumVirtualAttestationRootFile } from '../helpers/chromiumAttestation.ts';
import { enrolInBrowser, launchChromium, openBrowserPage } from '../helpers/browser.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';
import { authorizationRequest, callbackUrl, continueWithPasskey, createPublicClient, discover, redeem, startRelyingPartyStub, type RelyingPartyStub } from '../helpers/oidc.ts';

const CHROMIUM_VIRTUAL_AAGUID = '01020304-0506-0708-0102-030405060708';
const RESOURCE = 'https://api.example.test/';
const AAL3 = 'urn:keybound:aal3';

describe('step-up with acr_values and max_age', () => {
  let server: ServerProcess;
  let browser: Browser;
  let rp: RelyingPartyStub;
  let config: client.Configuration;

  beforeAll(async () => {
    [server, browser, rp] = await Promise.all([
      startServer({ env: { KEYBOUND_ATTESTATION: 'direct', KEYBOUND_ATTESTATION_AAGUIDS: CHROMIUM_VIRTUAL_AAGUID, KEYBOUND_ATTESTATION_TRUST_ANCHORS: chromiumVirtualAttestationRootFile(), KEYBOUND_OIDC_RESOURCES: RESOURCE } }),
      launchChromium(),
      startRelyingPartyStub(),
    ]);
    config = await discover(server, (await createPublicClient(server, rp, 'Payroll', ['--first-party', '--resource', RESOURCE])).client_id);
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await rp?.close();
  });

  it('refuses AAL3 to an account with only a syncable passkey: a clear page, then unmet_authentication_requirements', async () => {
    const context = await browser.newContext();
    const { page, errors } = await openBrowserPage(context, { defaultBackupEligibility: true, defaultBackupState: true });
    await enrolInBrowser(server, page, 'sync-sam');

    // Signed in (AAL2, phishing-resistant): the page says at once that this account cannot reach AAL3.
    const auth = await authorizationRequest(config, rp, { acr_values: AAL3 });
    const response = await page.goto(auth.url.href);
    await page.waitForURL((u) => u.pathname.startsWith('/interaction/'));
    expect(response?.status()).toBe(403);
    await expect.poll(() => page.locator('[data-error="acr_unreachable"]').count()).toBe(1);
    expect(await page.locator('h1').textContent()).toContain('cannot sign in to Payroll');
    await page.getByRole('button', { name: 'Return to Payroll' }).click();
    const returned = await callbackUrl(page, rp);
    expect(returned.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(returned.searchParams.get('code')).toBeNull();
    expect(returned.searchParams.get('state')).toBe(auth.state);
    await expect(redeem(config, auth, returned)).rejects.toMatchObject({ error: 'unmet_authentication_requirements' });

    // Not signed in: the ceremony runs, reaches only AAL2, and the same standard error follows.
    await context.clearCookies();
    const again = await authorizationRequest(config, rp, { acr_values: AAL3 });
    await page.goto(again.url.href);
    await continueWithPasskey(page);
    await expect.poll(() => page.locator('#interaction-form .inline-message').textContent()).toContain('no passkey that can reach');
    await page.getByRole('button', { name: 'Cancel and return to Payroll' }).click();
    expect((await callbackUrl(page, rp)).searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('reaches AAL3 with a device-bound attested passkey; max_age=0 forces a new ceremony and a new auth_time', async () => {
    const context = await browser.newContext();
    const { page, virtual, errors } = await openBrowserPage(context);
    await enrolInBrowser(server, page, 'bound-bea');
    await context.clearCookies();

    const auth = await authorizationRequest(config, rp, { acr_values: AAL3, resource: RESOURCE });
    await page.goto(auth.url.href);
    await page.waitForURL((u) => u.pathname.startsWith('/interaction/'));
    await continueWithPasskey(page);
    const tokens = await redeem(config, auth, await callbackUrl(page, rp));
    const first = tokens.claims()!;
    expect(first).toMatchObject({ acr: AAL3, amr: expect.arrayContaining(['hwk', 'mfa']) });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ acr: AAL3, auth_time: first.auth_time });
    const signCount = (await virtual.credentials())[0]!.signCount;

    // Single sign-on: the same request again returns without a ceremony, with the same auth_time.
    const sso = await authorizationRequest(config, rp, { acr_values: AAL3 });
    await page.goto(sso.url.href);
    const ssoClaims = (await redeem(config, sso, await callbackUrl(page, rp))).claims()!;
    expect(ssoClaims.auth_time).toBe(first.auth_time);
    expect((await virtual.credentials())[0]!.signCount).toBe(signCount);

    // auth_time has one-second resolution: let the second turn so a new one can be told apart.
    const turn = (first.auth_time! + 1) * 1000 - Date.now();
    if (turn > 0) await new Promise((resolve) => setTimeout(resolve, turn));

    const fresh = await authorizationRequest(config, rp, { max_age: '0' });
    await page.goto(fresh.url.href);
    await page.waitForURL((u) => u.pathname.startsWith('/interaction/'));
    await continueWithPasskey(page);
    const freshClaims = (await redeem(config, fresh, await callbackUrl(page, rp), { maxAge: 0 })).claims()!;
    expect(freshClaims.auth_time).toBeGreaterThan(first.auth_time!);
    expect(freshClaims.acr).toBe(AAL3);
    expect((await virtual.credentials())[0]!.signCount).toBeGreaterThan(signCount);
    expect(errors).toEqual([]);
    await context.close();
  });
});
