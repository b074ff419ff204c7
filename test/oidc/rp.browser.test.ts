/**
 * Issue 3, required test 1: openid-client (panva) as the real relying party against `keybound serve`:
 * discovery, authorization code + PKCE through the hosted sign-in in headless Chromium with a CDP
 * virtual authenticator, the ID token validated by openid-client, refresh with rotation,
 * revocation, and RP-initiated logout.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import * as client from 'openid-client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR_VALUES } from '../../src/core/assurance/level.ts';
import { enrolInBrowser, launchChromium, openBrowserPage } from '../helpers/browser.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';
import { authorizationRequest, callbackUrl, continueWithPasskey, createPublicClient, discover, redeem, startRelyingPartyStub, type RelyingPartyStub } from '../helpers/oidc.ts';

const RESOURCE = 'https://api.example.test/';

describe('openid-client against Keybound, signing in through headless Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let config: client.Configuration;
  let errors: string[];
  let rp: RelyingPartyStub;

  beforeAll(async () => {
    [server, browser, rp] = await Promise.all([startServer({ env: { KEYBOUND_OIDC_RESOURCES: RESOURCE } }), launchChromium(), startRelyingPartyStub()]);
    const created = await createPublicClient(server, rp, 'Test app', ['--first-party', '--resource', RESOURCE]);
    config = await discover(server, created.client_id);
    context = await browser.newContext();
    ({ page, errors } = await openBrowserPage(context));
    await enrolInBrowser(server, page, 'rp-alice');
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await rp?.close();
  });

  it('serves discovery with one acr value per level, S256 PKCE, DPoP and the issuer at /oidc', () => {
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(`${server.baseUrl}/oidc`);
    expect(metadata.acr_values_supported).toEqual([...ACR_VALUES]);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.dpop_signing_alg_values_supported).toContain('ES256');
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(['none', 'private_key_jwt']);
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
    // ES256 signs by default; RS256 is there because OIDC Discovery §3 requires it (issue 10, finding 15).
    expect([...(metadata.id_token_signing_alg_values_supported ?? [])].sort()).toEqual(['ES256', 'RS256']);
  });

  let refreshToken: string;
  let idToken: string;

  it('signs in with authorization code + PKCE; openid-client validates the ID token, which carries the level reached', async () => {
    const auth = await authorizationRequest(config, rp, { resource: RESOURCE });
    await page.goto(auth.url.href);
    // The Keybound session from enrolment already satisfies the request: no ceremony, straight back.
    const returned = await callbackUrl(page, rp);
    expect(returned.searchParams.get('iss')).toBe(`${server.baseUrl}/oidc`);
    const tokens = await redeem(config, auth, returned);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ acr: 'urn:keybound:aal2:phr', amr: expect.arrayContaining(['pop', 'mfa']), preferred_username: 'rp-alice' });
    // Issue 10, finding 3: the virtual authenticator's attestation is not trusted here, so no `hwk`.
    expect(claims.amr).not.toContain('hwk');
    expect(typeof claims.auth_time).toBe('number');
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES256');
    // RFC 9068 access token for the resource, with what the sign-in proved.
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: RESOURCE, acr: 'urn:keybound:aal2:phr', auth_time: claims.auth_time, amr: claims.amr });
    expect(tokens.refresh_token).toBeTruthy();
    refreshToken = tokens.refresh_token!;
    idToken = tokens.id_token!;
    expect(errors).toEqual([]);
  });

  it('refreshes with rotation: the new refresh token works once, the old one is refused and revokes the grant', async () => {
    const first = await client.refreshTokenGrant(config, refreshToken);
    expect(first.refresh_token).toBeTruthy();
    expect(first.refresh_token).not.toBe(refreshToken);
    expect(decodeJwt(first.access_token)).toMatchObject({ acr: 'urn:keybound:aal2:phr' });
    await expect(client.refreshTokenGrant(config, refreshToken)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Reuse of a rotated refresh token revokes the whole grant (RFC 9700 §4.14.2), so the new one dies too.
    await expect(client.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('revokes tokens (RFC 7009): a revoked access or refresh token stops working, and so do the other tokens of its grant', async () => {
    const signIn = async () => {
      const auth = await authorizationRequest(config, rp);
      await page.goto(auth.url.href);
      return redeem(config, auth, await callbackUrl(page, rp));
    };
    // No resource asked for: an opaque access token for the userinfo endpoint.
    const first = await signIn();
    expect((await client.fetchUserInfo(config, first.access_token, client.skipSubjectCheck)).preferred_username).toBe('rp-alice');
    await client.tokenRevocation(config, first.access_token);
    await expect(client.fetchUserInfo(config, first.access_token, client.skipSubjectCheck)).rejects.toMatchObject({ cause: [{ parameters: { error: 'invalid_token' } }] });
    // oidc-provider revokes every token of the grant with it (RFC 7009 §2.1 allows this).
    await expect(client.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    const second = await signIn();
    await client.tokenRevocation(config, second.refresh_token!);
    await expect(client.refreshTokenGrant(config, second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // §2.1: revoking a refresh token invalidates the access tokens of the same grant too.
    await expect(client.fetchUserInfo(config, second.access_token, client.skipSubjectCheck)).rejects.toMatchObject({ cause: [{ parameters: { error: 'invalid_token' } }] });
  });

  it('signs out through RP-initiated logout, which also ends the Keybound session', async () => {
    const url = client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: rp.postLogoutUri, state: 'bye' });
    await page.goto(url.href);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL((u) => u.href.startsWith(rp.postLogoutUri));
    expect(new URL(page.url()).searchParams.get('state')).toBe('bye');
    const session = await page.request.get(`${server.baseUrl}/api/v1/session`);
    expect(session.status()).toBe(401);
    // The next sign-in asks for a passkey again.
    const auth = await authorizationRequest(config, rp);
    await page.goto(auth.url.href);
    await page.waitForURL((u) => u.pathname.startsWith('/interaction/'));
    await continueWithPasskey(page);
    const tokens = await redeem(config, auth, await callbackUrl(page, rp));
    expect(tokens.claims()!.acr).toBe('urn:keybound:aal2:phr');
    expect(errors).toEqual([]);
  });
});
