/**
 * Helpers for the OpenID provider tests: a relying party built on openid-client (panva) against a
 * `keybound serve` child process, and browser steps for the hosted sign-in. The browser parts use
 * test/helpers/browser.ts (Chromium + CDP virtual authenticator); the redirect back to the relying
 * party is caught by Playwright before it leaves the browser, so no relying-party server is needed.
 */
import { createServer, type Server } from 'node:http';
import type { Page } from 'playwright-core';
import * as client from 'openid-client';
import { STEP_TIMEOUT_MS } from './browser.ts';
import type { ServerProcess } from './server.ts';

/** The relying party's side: a tiny HTTP server answering 200 on every path, and its URIs. */
export interface RelyingPartyStub {
  readonly origin: string;
  readonly redirectUri: string;
  readonly postLogoutUri: string;
  close(): Promise<void>;
}

/** Starts the stub on a free loopback port (the page the browser lands on after each redirect). */
export function startRelyingPartyStub(): Promise<RelyingPartyStub> {
  const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('relying party'));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, 'localhost', () => {
      const address = server.address();
      const origin = `http://localhost:${typeof address === 'object' && address ? address.port : 0}`;
      resolve({
        origin,
        redirectUri: `${origin}/callback`,
        postLogoutUri: `${origin}/signed-out`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

export interface CreatedClient {
  readonly client_id: string;
  readonly token_endpoint_auth_method: string;
  readonly grant_types: string[];
}

/** `keybound clients create ... --json` for a public browser client with the test redirect URIs; first-party unless `extra` says otherwise. */
export function createPublicClient(server: ServerProcess, rp: RelyingPartyStub, name = 'Test app', extra: readonly string[] = ['--first-party']): Promise<CreatedClient> {
  return server.cliJson<CreatedClient>(['clients', 'create', '--name', name, '--public', '--redirect-uri', rp.redirectUri, '--post-logout-redirect-uri', rp.postLogoutUri, ...extra, '--json']);
}

/** openid-client's view of the provider (plain HTTP is allowed for localhost tests only). */
export async function discover(server: ServerProcess, clientId: string, auth: client.ClientAuth = client.None(), metadata: Partial<client.ClientMetadata> = {}) {
  return client.discovery(new URL(`${server.baseUrl}/oidc`), clientId, { id_token_signed_response_alg: 'ES256', ...metadata }, auth, { execute: [client.allowInsecureRequests] });
}

export interface Authorization {
  readonly url: URL;
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
}

/** An authorization request with PKCE (S256), state and nonce. */
export async function authorizationRequest(config: client.Configuration, rp: RelyingPartyStub, extra: Record<string, string> = {}): Promise<Authorization> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: rp.redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/** Waits for the browser to come back to the relying party and returns that URL. */
export async function callbackUrl(page: Page, rp: RelyingPartyStub): Promise<URL> {
  await page.waitForURL((url) => url.href.startsWith(rp.redirectUri), { timeout: STEP_TIMEOUT_MS });
  return new URL(page.url());
}

/** Clicks through the hosted sign-in (interaction page) with the page's virtual authenticator. */
export async function continueWithPasskey(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Continue with a passkey' }).click();
}

export async function redeem(config: client.Configuration, auth: Authorization, returned: URL, checks: Partial<client.AuthorizationCodeGrantChecks> = {}) {
  return client.authorizationCodeGrant(config, returned, { pkceCodeVerifier: auth.verifier, expectedState: auth.state, expectedNonce: auth.nonce, idTokenExpected: true, ...checks });
}
