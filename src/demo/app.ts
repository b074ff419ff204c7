import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import { createVerifier, requireAccessToken } from '../resource/index.ts';
import { renderHome, renderProblem } from './pages.ts';

/**
 * The demo relying party: signs in through Keybound (authorization code + PKCE, openid-client),
 * shows the acr/amr it received, and calls its own API's sensitive action, which is guarded by
 * `keybound/resource`. When the API answers with an RFC 9470 challenge, the demo sends the person
 * back to Keybound with the challenge's acr_values and max_age, then retries the action.
 * Sessions are in memory: this is a demo, not a pattern for production.
 */
export interface DemoOptions {
  readonly issuer: string;
  readonly clientId: string;
  /** Public origin of the demo, e.g. http://localhost:3000; the API's resource indicator is `${origin}/api`. */
  readonly origin: string;
  readonly requirement: { readonly acr?: string; readonly maxAgeS?: number };
  /** Allow plain-HTTP issuers (localhost development only). */
  readonly insecure?: boolean;
}

interface DemoSession {
  pending?: { verifier: string; state: string; nonce: string; then: 'home' | 'action' };
  tokens?: { accessToken: string; idToken: string; claims: client.IDToken };
  result?: { ok: boolean; text: string };
}

/** No scripts at all. `form-action` names Keybound too: the sensitive-action form may redirect there to step up. */
const page = (reply: FastifyReply, body: string, issuer: string, status = 200) =>
  reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${new URL(issuer).origin}; frame-ancestors 'none'`)
    .send(body);

export async function buildDemo(options: DemoOptions): Promise<FastifyInstance> {
  const config = await client.discovery(new URL(options.issuer), options.clientId, undefined, client.None(), options.insecure ? { execute: [client.allowInsecureRequests] } : {});
  const resource = `${options.origin}/api`;
  const redirectUri = `${options.origin}/callback`;
  const sessions = new Map<string, DemoSession>();
  const app = Fastify();
  await app.register((await import('@fastify/cookie')).default);
  // The sensitive-action form posts no fields; accept (and ignore) its urlencoded body.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_request, _body, done) => done(null, {}));

  const sessionOf = (request: FastifyRequest, reply: FastifyReply): DemoSession => {
    let id = request.cookies.demo_session;
    if (!id || !sessions.has(id)) {
      id = randomBytes(24).toString('base64url');
      sessions.set(id, {});
      reply.setCookie('demo_session', id, { path: '/', httpOnly: true, sameSite: 'lax' });
    }
    return sessions.get(id)!;
  };

  const startSignIn = async (session: DemoSession, reply: FastifyReply, extra: Record<string, string>, then: 'home' | 'action') => {
    const verifier = client.randomPKCECodeVerifier();
    const pending = { verifier, state: client.randomState(), nonce: client.randomNonce(), then };
    session.pending = pending;
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile',
      resource,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      ...extra,
    });
    return reply.redirect(url.href, 303);
  };

  app.get('/', async (request, reply) => {
    const session = sessionOf(request, reply);
    const claims = session.tokens?.claims;
    const requirement = [options.requirement.acr ? `acr ${options.requirement.acr} or stronger` : null, options.requirement.maxAgeS !== undefined ? `a sign-in at most ${options.requirement.maxAgeS} s old` : null].filter(Boolean).join(' and ') || 'a valid token';
    const result = session.result;
    delete session.result;
    return page(reply, renderHome(claims ? { name: String(claims.name ?? claims.sub), acr: String(claims.acr ?? ''), amr: (claims.amr as string[] | undefined) ?? [], authTime: Number(claims.auth_time), requirement, result } : null, options.issuer), options.issuer);
  });

  app.get('/login', async (request, reply) => startSignIn(sessionOf(request, reply), reply, {}, 'home'));

  app.get('/callback', async (request, reply) => {
    const session = sessionOf(request, reply);
    const pending = session.pending;
    if (!pending) return page(reply, renderProblem('No sign-in in progress', 'Start again from the demo home page.'), options.issuer, 400);
    delete session.pending;
    try {
      const tokens = await client.authorizationCodeGrant(config, new URL(request.url, options.origin), { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true });
      session.tokens = { accessToken: tokens.access_token, idToken: tokens.id_token!, claims: tokens.claims()! };
    } catch (error) {
      const e = error as { error?: string; error_description?: string; message: string };
      return page(reply, renderProblem('Keybound did not sign you in', `${e.error ?? 'error'}: ${e.error_description ?? e.message}`), options.issuer, 400);
    }
    if (pending.then === 'action') return reply.redirect('/action', 303);
    return reply.redirect('/', 303);
  });

  // After a step-up the browser comes back with GET; the action is then retried once.
  const action = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = sessionOf(request, reply);
    if (!session.tokens) return reply.redirect('/login', 303);
    const response = await fetch(resource + '/sensitive', { method: 'POST', headers: { authorization: `Bearer ${session.tokens.accessToken}` } });
    if (response.ok) {
      session.result = { ok: true, text: `The sensitive action succeeded: ${((await response.json()) as { message: string }).message}` };
      return reply.redirect('/', 303);
    }
    const challenge = response.headers.get('www-authenticate') ?? '';
    if (response.status === 401 && challenge.includes('insufficient_user_authentication') && request.method === 'POST') {
      // RFC 9470 §4: ask the authorization server for what the challenge names.
      const param = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(challenge)?.[1];
      const acr = param('acr_values');
      const maxAge = param('max_age');
      return startSignIn(session, reply, { ...(acr ? { acr_values: acr } : {}), ...(maxAge !== undefined ? { max_age: maxAge } : {}) }, 'action');
    }
    session.result = { ok: false, text: `The API refused the action (${response.status}): ${challenge}` };
    return reply.redirect('/', 303);
  };
  app.post('/action', action);
  app.get('/action', action);

  app.get('/logout', async (request, reply) => {
    const session = sessionOf(request, reply);
    const hint: Record<string, string> = session.tokens ? { id_token_hint: session.tokens.idToken } : { client_id: options.clientId };
    delete session.tokens;
    return reply.redirect(client.buildEndSessionUrl(config, { post_logout_redirect_uri: `${options.origin}/`, ...hint }).href, 303);
  });

  // The demo API: a resource server protected by keybound/resource.
  const verifier = createVerifier({ issuer: options.issuer, audience: resource });
  const guard = requireAccessToken({ verifier, publicOrigin: options.origin });
  app.post('/api/sensitive', { preHandler: guard({ ...options.requirement }) }, async (request) => ({
    message: `done for ${request.accessToken!.sub} at ${request.accessToken!.acr}`,
  }));
  return app;
}
