/**
 * OWASP ASVS 5.0 3.3.1 and 3.3.3: over an HTTPS origin the provider's cookies carry the prefix the
 * browser enforces (`__Host-` for the session cookie at Path=/, `__Secure-` for the path-scoped
 * interaction and resume cookies), and an authorization-code flow still ends in tokens. On
 * plain-HTTP localhost they keep their plain names (a browser refuses Secure cookies there).
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { invite } from '../../src/services/invitations.ts';
import { sessionCookie, startTestApp, type TestApp } from '../helpers/app.ts';
import { CookieJar, INJECT_REDIRECT, registerTestClient, tokenRequest } from '../helpers/oidcInject.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';

interface SetCookie {
  readonly name: string;
  readonly attributes: string[];
}

const parse = (header: string): SetCookie => {
  const [pair, ...attributes] = header.split(';').map((p) => p.trim());
  return { name: pair!.slice(0, pair!.indexOf('=')), attributes };
};

/** Enrols a person from `origin` and returns the Keybound session cookie. */
async function enrolAt(t: TestApp, origin: string, rpId: string): Promise<string> {
  const authenticator = new SoftAuthenticator({ origin, rpId });
  const invited = await invite(t.deps, { username: 'cookie-person', createdBy: 'test' });
  if (!invited.ok) throw new Error(invited.code);
  const headers = { 'content-type': 'application/json', origin };
  const options = await t.app.inject({ method: 'POST', url: '/api/v1/passkeys/registration/options', payload: { enrolmentToken: invited.value.token }, headers });
  const verify = await t.app.inject({ method: 'POST', url: '/api/v1/passkeys/registration/verify', payload: { response: authenticator.create(options.json()) }, headers });
  expect(verify.statusCode, verify.body).toBe(201);
  return sessionCookie(verify);
}

/** Follows an authorization request to the code, keeping every Set-Cookie the provider sent. */
async function authorizeRecording(t: TestApp, clientId: string, cookie: string) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const params = new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: INJECT_REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 's' });
  const jar = new CookieJar(cookie);
  const set: SetCookie[] = [];
  let url = `/oidc/auth?${params}`;
  for (let hop = 0; hop < 12; hop++) {
    const response = await t.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
    jar.take(response);
    set.push(...[response.headers['set-cookie'] ?? []].flat().map(parse));
    const location = response.headers.location;
    expect([302, 303], `${url}: ${response.body.slice(0, 300)}`).toContain(response.statusCode);
    const next = new URL(String(location), 'https://login.example.test');
    if (next.href.startsWith(INJECT_REDIRECT)) return { code: next.searchParams.get('code')!, verifier, set };
    url = `${next.pathname}${next.search}`;
  }
  throw new Error('too many redirects');
}

describe('the provider cookies', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('carry __Host- (session, Path=/) and __Secure- (interaction, resume) over HTTPS, and the code flow still works', async () => {
    const origin = 'https://login.example.test';
    t = await startTestApp({ env: { KEYBOUND_ORIGIN: origin, KEYBOUND_RP_ID: 'login.example.test' } });
    const clientId = await registerTestClient(t);
    const { code, verifier, set } = await authorizeRecording(t, clientId, await enrolAt(t, origin, 'login.example.test'));

    const provider = set.filter((c) => c.name.includes('keybound_oidc_'));
    const names = new Set(provider.map((c) => c.name.replace(/\.sig$/, '')));
    expect([...names].sort()).toEqual(['__Host-keybound_oidc_session', '__Secure-keybound_oidc_interaction', '__Secure-keybound_oidc_resume']);
    for (const c of provider) {
      expect(c.attributes, c.name).toContain('secure');
      expect(c.attributes.some((a) => /^domain=/i.test(a)), c.name).toBe(false);
      // What the browser demands of each prefix (RFC 6265bis §4.1.3): __Host- is Path=/ only.
      if (c.name.startsWith('__Host-')) expect(c.attributes, c.name).toContain('path=/');
    }
    const interaction = provider.find((c) => c.name === '__Secure-keybound_oidc_interaction')!;
    expect(interaction.attributes.find((a) => a.startsWith('path='))).toMatch(/^path=\/interaction\//);

    const tokens = await tokenRequest(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId });
    expect(tokens.statusCode, tokens.body).toBe(200);
    expect(tokens.json()).toHaveProperty('id_token');
  });

  it('keep their plain names on plain-HTTP localhost', async () => {
    t = await startTestApp();
    const clientId = await registerTestClient(t);
    const { set } = await authorizeRecording(t, clientId, await enrolAt(t, 'http://localhost:8080', 'localhost'));
    const names = new Set(set.filter((c) => c.name.includes('keybound_oidc_')).map((c) => c.name.replace(/\.sig$/, '')));
    expect([...names].sort()).toEqual(['keybound_oidc_interaction', 'keybound_oidc_resume', 'keybound_oidc_session']);
    expect(set.some((c) => c.attributes.includes('secure'))).toBe(false);
  });
});
