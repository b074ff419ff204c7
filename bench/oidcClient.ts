/**
 * An OpenID client's side of the offboard scenario, over bench/http.ts: the authorization code
 * flow with PKCE (RFC 7636, S256) followed through Keybound's redirects with a cookie jar, as a
 * browser signed in to Keybound would; token requests as a public client; userinfo with a bearer
 * token. The same approach as test/reliability/offboardInstances.test.ts, on the benchmark's client.
 */
import { createHash, randomBytes } from 'node:crypto';
import { FlowError } from './flows.ts';
import type { HttpClient, HttpResponse } from './http.ts';

/** `name=value` pairs from Set-Cookie headers, kept across redirects. */
class Jar {
  private readonly cookies = new Map<string, string>();
  constructor(initial: string) {
    this.add(initial);
  }
  add(line: string): void {
    const [name, ...value] = line.split(';', 1)[0]!.split('=');
    if (!name) return;
    const v = value.join('=');
    if (v === '') this.cookies.delete(name.trim());
    else this.cookies.set(name.trim(), v);
  }
  take(response: HttpResponse): void {
    const header = response.headers['set-cookie'];
    for (const line of Array.isArray(header) ? header : header ? [header] : []) this.add(line);
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface AuthorizationCode {
  readonly code: string;
  readonly verifier: string;
}

/**
 * Follows an authorization request on the server behind `http` (whose origin is `baseUrl`), signed
 * in to Keybound with `sessionCookie`, to the code at `redirectUri`.
 */
export async function authorizationCode(
  http: HttpClient,
  input: { baseUrl: string; clientId: string; redirectUri: string; sessionCookie: string; scope: string; resource?: string },
): Promise<AuthorizationCode> {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    client_id: input.clientId,
    response_type: 'code',
    scope: input.scope,
    redirect_uri: input.redirectUri,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('base64url'),
    ...(input.resource ? { resource: input.resource } : {}),
  });
  const jar = new Jar(input.sessionCookie);
  let url = new URL(`/oidc/auth?${params}`, input.baseUrl);
  for (let hop = 0; hop < 12; hop++) {
    const response = await http.send('GET', `${url.pathname}${url.search}`, { cookie: jar.header() });
    jar.take(response);
    const location = response.headers.location;
    if (typeof location !== 'string') throw new FlowError(`authorization (no redirect from ${url.pathname})`, response);
    const next = new URL(location, url);
    if (next.href.startsWith(input.redirectUri)) {
      const code = next.searchParams.get('code');
      if (!code) throw new FlowError(`authorization (no code: ${next.searchParams.get('error') ?? 'no error'})`, response);
      return { code, verifier };
    }
    if (next.origin !== url.origin) throw new FlowError(`authorization (redirect to ${next.origin})`, response);
    url = next;
  }
  throw new Error('authorization: too many redirects');
}

export interface TokenAnswer {
  readonly status: number;
  readonly json: Record<string, string | undefined>;
}

/** A token request as a public client (`client_id` in the body, no client authentication). */
export async function tokenRequest(http: HttpClient, body: Record<string, string>): Promise<TokenAnswer> {
  const response = await http.send('POST', '/oidc/token', {}, new URLSearchParams(body).toString(), 'application/x-www-form-urlencoded');
  let json: Record<string, string | undefined> = {};
  try {
    json = JSON.parse(response.body) as Record<string, string | undefined>;
  } catch {
    // Not JSON: the status says enough.
  }
  return { status: response.status, json };
}

/** Userinfo (OIDC Core §5.3) with the access token as a bearer token; the status. */
export async function userinfoStatus(http: HttpClient, accessToken: string): Promise<number> {
  return (await http.send('GET', '/oidc/me', { authorization: `Bearer ${accessToken}` })).status;
}
