/**
 * Drives the OpenID provider in-process (Fastify inject) for tests that need both backends and
 * real concurrency on them: a small cookie jar follows the redirects of an authorization request
 * through the interaction (Keybound session cookie, provider cookies) to the code.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { createClient, type ClientInput } from '../../src/oidc/clients.ts';
import { OIDC_SCOPES } from '../../src/oidc/clientPolicy.ts';
import type { TestApp } from './app.ts';

export const INJECT_REDIRECT = 'https://app.example.test/callback';

export class CookieJar {
  private readonly cookies = new Map<string, string>();
  constructor(initial = '') {
    for (const part of initial.split(';')) this.add(part);
  }
  private add(pair: string): void {
    const eq = pair.indexOf('=');
    if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  take(response: LightMyRequestResponse): void {
    for (const c of response.cookies) {
      if (c.value === '' || (c.maxAge !== undefined && c.maxAge <= 0)) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/**
 * A public client registered through the service the CLI uses (validation skipped: in-process test).
 * Unless `options` say otherwise it is first-party and allowed every scope and resource the server
 * has (tests of other properties should not meet a consent screen or an allowlist).
 */
export async function registerTestClient(t: TestApp, options: Partial<ClientInput> = {}): Promise<string> {
  const created = await createClient(
    t.deps,
    {
      name: 'Inject app',
      redirectUris: [INJECT_REDIRECT],
      postLogoutRedirectUris: [],
      public: true,
      jwks: null,
      grantTypes: ['authorization_code', 'refresh_token'],
      requireDpop: false,
      firstParty: true,
      scopes: [...OIDC_SCOPES, ...t.config.oidc.resourceScopes],
      resources: [...t.config.oidc.resources],
      ...options,
    },
    async () => null,
  );
  if (!created.ok) throw new Error(created.code);
  return created.value.client.clientId;
}

/** Follows an authorization request (signed in via `sessionCookie`) to the redirect back; returns the code and its PKCE verifier. */
export async function authorize(t: TestApp, clientId: string, sessionCookie: string, extra: Record<string, string> = {}): Promise<{ code: string; verifier: string; location: URL }> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const params = new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: INJECT_REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 's', ...extra });
  const jar = new CookieJar(sessionCookie);
  let url = `/oidc/auth?${params}`;
  for (let hop = 0; hop < 12; hop++) {
    const response = await t.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
    jar.take(response);
    const location = response.headers.location;
    if (response.statusCode !== 303 && response.statusCode !== 302) throw new Error(`stopped at ${url} with ${response.statusCode}: ${response.body.slice(0, 300)}`);
    if (typeof location !== 'string') throw new Error(`redirect without location from ${url}`);
    const next = new URL(location, 'http://localhost:8080');
    if (next.href.startsWith(INJECT_REDIRECT)) {
      const code = next.searchParams.get('code');
      if (!code) throw new Error(`no code: ${next.href}`);
      return { code, verifier, location: next };
    }
    url = `${next.pathname}${next.search}`;
  }
  throw new Error('too many redirects');
}

export function tokenRequest(t: TestApp, body: Record<string, string>) {
  return t.app.inject({ method: 'POST', url: '/oidc/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(body).toString() });
}
