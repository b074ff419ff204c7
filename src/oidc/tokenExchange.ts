import { createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
import Provider, { errors, type AccessToken, type TokenEndpointGrantContext } from 'oidc-provider';
import validateDpop from 'oidc-provider/lib/helpers/validate_dpop.js';
import { applyDpopBinding } from 'oidc-provider/lib/helpers/grant_common.js';
import { isAcr } from '../core/assurance/level.ts';
import { lastUseIsDue } from '../core/nhi/lastUse.ts';
import type { Deps } from '../services/deps.ts';
import { grantAlive } from '../services/grants.ts';
import { agentScopes } from '../services/nhi/delegations.ts';
import { clientPolicy } from './clientPolicy.ts';
import { clientTokenTtl, TOKEN_EXCHANGE_GRANT } from './clients.ts';

/**
 * OAuth 2.0 Token Exchange (RFC 8693) for agents acting for a person (docs/oidc.md "Token exchange",
 * docs/nhi.md "Delegation to agents"). An agent workload authenticates as its client
 * (`private_key_jwt`) with a DPoP proof, and sends the person's access token as `subject_token`. It
 * gets a JWT access token for the person (`sub`) that names it (`act.sub`, RFC 8693 §4.1), with the
 * scopes the delegation, the person's token and the agent's allowlist all hold, the person's `acr`,
 * `amr` and `auth_time` as the subject token carries them (never more), for at most 300 s.
 *
 * The subject token must be a JWT access token this server issued (signature, `iss`, `typ`
 * `at+jwt`, `exp`), not itself exchanged, whose sign-in is still live: a Keybound session of the
 * person, bound to a grant of the token's client (services/grants.ts), signed in at the token's
 * `auth_time`, neither revoked nor past its absolute limit. Signing out or being signed out
 * (revocation, lost passkey, suspension, offboarding) ends that, and the next exchange is
 * `invalid_grant`; so does revoking the delegation. Each exchange records the delegation's last use.
 */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** Longest lifetime of an exchanged token, in seconds (issue 15). */
export const MAX_EXCHANGED_TTL_S = 300;

/** The claims an exchanged token carries beyond the provider's own (configuration.ts `extraTokenClaims`). */
const exchanged = new WeakMap<object, Record<string, unknown>>();

/** The `act` and assurance claims of a token this grant is issuing, if it is one. */
export function exchangedClaims(token: object | undefined): Record<string, unknown> | undefined {
  return token ? exchanged.get(token) : undefined;
}

interface Params {
  subject_token?: string;
  subject_token_type?: string;
  actor_token?: string;
  actor_token_type?: string;
  requested_token_type?: string;
  audience?: string;
}

/** The private members of a JWK, dropped so only public keys verify subject tokens. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Registers the grant type on the provider (provider.ts), verifying subject tokens with the provider's own public keys. */
export function registerTokenExchange(provider: Provider, deps: Deps, jwks: { keys: readonly JWK[] }): void {
  const publicKeys = createLocalJWKSet({ keys: jwks.keys.map((k) => Object.fromEntries(Object.entries(k).filter(([name]) => !(PRIVATE_MEMBERS as readonly string[]).includes(name))) as JWK) });
  const handler = async (ctx: TokenEndpointGrantContext<Params>) => {
    const { client, params } = ctx.oidc;
    const invalidGrant = (why: string) => new errors.InvalidGrant(why);
    // RFC 8693 §2.1: subject_token and subject_token_type are required.
    if (!params.subject_token || !params.subject_token_type) throw new errors.InvalidRequest('subject_token and subject_token_type are required');
    if (params.subject_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    // The agent is the authenticated client; an actor token would only repeat (or contradict) that.
    if (params.actor_token !== undefined) throw new errors.InvalidRequest('actor_token is not accepted: the authenticated client is the actor');
    // RFC 8693 §2.1: actor_token_type "MUST NOT be included otherwise".
    if (params.actor_token_type !== undefined) throw new errors.InvalidRequest('actor_token_type is sent only with an actor_token, which is not accepted');
    if (params.requested_token_type !== undefined && params.requested_token_type !== ACCESS_TOKEN_TYPE && params.requested_token_type !== JWT_TOKEN_TYPE) {
      throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }
    const workload = await deps.store.workloads.find(client.clientId);
    if (!workload || workload.kind !== 'agent') throw new errors.UnauthorizedClient('only agent workloads may exchange tokens');
    // Agents only ever hold DPoP-bound tokens (workloads.ts): no proof, no token.
    const dPoP = await validateDpop(provider, ctx);
    if (!dPoP) throw invalidGrant('DPoP proof JWT not provided');

    const now = deps.clock();
    const subject = await verifySubject(deps, publicKeys, params.subject_token, now);
    if (!subject) throw invalidGrant('subject_token is not a live access token of this server');
    const delegation = await deps.store.delegations.findLive(subject.sub, client.clientId, now);
    if (!delegation) throw invalidGrant('the person has not delegated to this agent, or the delegation ended');

    // Scopes: the delegation's ∩ the person's token's ∩ the agent's allowlist (∩ those asked for).
    const allowed = new Set(agentScopes(deps, client as unknown as Record<string, unknown>));
    const held = new Set(subject.scopes);
    const granted = delegation.scopes.filter((s) => held.has(s) && allowed.has(s));
    const asked = typeof params.scope === 'string' ? params.scope.split(' ').filter(Boolean) : null;
    const scopes = asked ?? granted;
    const beyond = asked?.find((s) => !granted.includes(s));
    if (beyond !== undefined) throw new errors.InvalidScope('requested scope is not delegated to this agent, held by the subject token and allowed to the agent', beyond);
    if (scopes.length === 0) throw new errors.InvalidScope('no scope is delegated to this agent, held by the subject token and allowed to the agent', delegation.scopes.join(' '));

    const resource = pickResource(deps, client, params, subject.aud);
    const ttl = Math.min(MAX_EXCHANGED_TTL_S, clientTokenTtl(client) ?? MAX_EXCHANGED_TTL_S, subject.exp - Math.floor(now / 1000), Math.floor((delegation.expiresAt - now) / 1000));
    if (ttl < 1) throw invalidGrant('the subject token or the delegation ends too soon');

    // No provider grant stands behind it (the delegation does), and as a JWT it is not stored.
    const fields = { accountId: subject.sub, client, gty: 'token-exchange', scope: scopes.join(' ') };
    const token: AccessToken = new provider.AccessToken(fields as typeof fields & { grantId: string });
    token.resourceServer = new provider.ResourceServer(resource, { audience: resource, scope: scopes.join(' '), accessTokenTTL: ttl, accessTokenFormat: 'jwt', jwt: { sign: { alg: deps.config.oidc.signingAlg } } });
    await applyDpopBinding(provider, ctx, dPoP, token);
    // RFC 8693 §4.1 `act`; RFC 9068 §2.2.1 and RFC 9470 §3: the person's sign-in, as the subject token says it.
    exchanged.set(token, { act: { sub: client.clientId }, ...(subject.acr ? { acr: subject.acr } : {}), ...(subject.amr ? { amr: subject.amr } : {}), ...(subject.authTime !== undefined ? { auth_time: subject.authTime } : {}) });
    const value = await token.save();
    if (lastUseIsDue(delegation.lastUsedAt, now)) await deps.store.delegations.recordUse(delegation.id, now);
    // RFC 8693 §2.2.1.
    ctx.body = { access_token: value, issued_token_type: ACCESS_TOKEN_TYPE, token_type: token.tokenType, expires_in: token.expiration, scope: token.scope };
  };
  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, handler, ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'scope', 'resource']);
}

interface Subject {
  readonly sub: string;
  readonly scopes: readonly string[];
  readonly aud: readonly string[];
  readonly exp: number;
  readonly acr: string | undefined;
  readonly amr: readonly string[] | undefined;
  readonly authTime: number | undefined;
}

/** The subject token's claims, if it is a live person's access token of this server (see above); `undefined` otherwise. */
async function verifySubject(deps: Deps, keys: ReturnType<typeof createLocalJWKSet>, value: string, now: number): Promise<Subject | undefined> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(value, keys, { issuer: deps.config.oidc.issuer, typ: 'at+jwt', algorithms: [deps.config.oidc.signingAlg], currentDate: new Date(now) }));
  } catch {
    return undefined;
  }
  const { sub, client_id: clientId, auth_time: authTime, exp, act } = payload as JWTPayload & { client_id?: unknown; auth_time?: unknown; act?: unknown };
  // A client-credentials token is the client's own (sub = client_id); an exchanged one is not exchanged again.
  if (typeof sub !== 'string' || typeof clientId !== 'string' || sub === clientId || act !== undefined) return undefined;
  if (typeof authTime !== 'number' || typeof exp !== 'number') return undefined;
  if (!(await signInLive(deps, sub, clientId, authTime, now))) return undefined;
  const acr = typeof payload.acr === 'string' && isAcr(payload.acr) ? payload.acr : undefined;
  const amr = Array.isArray(payload.amr) && payload.amr.every((m) => typeof m === 'string') ? (payload.amr as string[]) : undefined;
  const aud = Array.isArray(payload.aud) ? payload.aud : payload.aud ? [payload.aud] : [];
  return { sub, scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [], aud, exp, acr, amr, authTime };
}

/**
 * Whether the sign-in behind a person's token still holds: a grant of that client, bound to a
 * Keybound sign-in session of the person made at `auth_time`, with the grant alive and the
 * session neither revoked nor past its absolute limit (an `offline_access` grant outlives its
 * session; the exchange does not).
 */
async function signInLive(deps: Deps, accountId: string, clientId: string, authTimeS: number, now: number): Promise<boolean> {
  const bindings = (await deps.store.oidcGrantSessions.findByAccount(accountId)).filter((b) => b.clientId === clientId);
  for (const b of bindings) {
    const session = await deps.store.sessions.findById(b.sessionId);
    if (!session || session.accountId !== accountId || session.purpose !== 'sign_in') continue;
    if (session.revokedAt !== null || session.expiresAt <= now || Math.floor(session.authTime / 1000) !== authTimeS) continue;
    if (await grantAlive(deps.store, b.grantId, now)) return true;
  }
  return false;
}

/**
 * RFC 8693 §2.1 `resource` (or `audience`): one API of this server the agent is allowed and the
 * subject token is for; without it, the subject token's audience if the agent is allowed it. An
 * exchange narrows what the person's token allows and never moves it to another API: the scopes
 * the person's token holds are held at its own audience only.
 */
function pickResource(deps: Deps, client: object, params: Params & { resource?: string | string[] }, subjectAud: readonly string[]): string {
  const allowed = clientPolicy(client).resources.filter((r) => deps.config.oidc.resources.includes(r));
  if (params.resource !== undefined && params.audience !== undefined && params.resource !== params.audience) throw new errors.InvalidTarget('resource and audience name different APIs');
  const asked = params.resource ?? params.audience;
  if (Array.isArray(asked)) throw new errors.InvalidTarget('only a single resource indicator value is supported for this grant type');
  if (asked !== undefined) {
    if (!allowed.includes(asked)) throw new errors.InvalidTarget(`${asked} is not a resource this agent may have tokens for`);
    if (!subjectAud.includes(asked)) throw new errors.InvalidTarget(`the subject token is not for ${asked}: an exchanged token is for the API the person's token is for`);
    return asked;
  }
  const fallback = subjectAud.find((a) => allowed.includes(a));
  if (!fallback) throw new errors.InvalidTarget('name the resource (an API this agent may have tokens for)');
  return fallback;
}
