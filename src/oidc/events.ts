import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Deps } from '../services/deps.ts';
import { auditRefusal } from '../services/securityAudit.ts';

/**
 * OAuth client authentication as security events (OWASP ASVS 5.0 16.3.1, 16.3.2): every time a
 * client authenticates (`private_key_jwt`, `client_secret_basic`, `client_secret_post`) at the
 * token, introspection, revocation or pushed authorization endpoint, the audit trail gets
 * `oidc.client.authentication` with the client id, the method and the outcome (with a stable
 * reason when it failed); failures are also logged at warn. Never the assertion, never the secret:
 * the reason is one of `REASONS`, not the library's message. A revocation refused because the token
 * belongs to another client is audited as `authorization.refused`.
 *
 * oidc-provider (9.x, lib/shared/client_auth.js) authenticates the client before anything else at
 * these endpoints and emits `<endpoint>.error` with the error it answered; it emits nothing when
 * a client authenticates, so the outcome is read after the endpoint ran: a client identified
 * (`ctx.oidc.client`) whose request was not refused as `invalid_client` got past authentication.
 */
const ENDPOINT_ERRORS: Readonly<Record<string, string>> = {
  token: 'grant.error',
  introspection: 'introspection.error',
  revocation: 'revocation.error',
  pushed_authorization_request: 'pushed_authorization_request.error',
};

/** The one refusal client_auth.js makes after identifying the client that is not `invalid_client`. */
const MIXED_MECHANISMS = 'client authentication must only be provided using one mechanism';

/** oidc-provider's `error_detail` (and the JWT checks' messages) mapped to stable reasons. */
const REASONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^client not found$/, 'client_unknown'],
  [/does not match the registered client authentication method/, 'method_mismatch'],
  [/^invalid secret provided$/, 'secret_invalid'],
  [/secret .*expired/, 'secret_expired'],
  [/must only be used once/, 'assertion_replayed'],
  [/^alg mismatch$/, 'assertion_algorithm_refused'],
  [/signature verification failed/, 'assertion_signature_invalid'],
  [/no applicable key/, 'assertion_key_unknown'],
  [/^jwt (expired|not active yet|issued in the future)$/, 'assertion_time_invalid'],
  [/aud|audience/, 'assertion_audience_invalid'],
  [/exp|jti|iss|iat|nbf|sub/, 'assertion_claims_invalid'],
];

const REVOCABLE = ['AccessToken', 'ClientCredentials', 'RefreshToken'] as const;
const MAX_CLAIMED_ID = 128;

interface ProviderError {
  readonly error?: string;
  readonly error_description?: string;
  readonly error_detail?: string;
}

type Outcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** The mechanism the request used (what it presented, not what the client registered). */
function presentedMethod(ctx: KoaContextWithOIDC): string {
  const params = (ctx.oidc.params ?? {}) as Record<string, unknown>;
  if (params.client_assertion !== undefined) {
    const registered = ctx.oidc.client?.clientAuthMethod;
    return registered === 'client_secret_jwt' || registered === 'private_key_jwt' ? registered : 'client_assertion';
  }
  if (params.client_secret !== undefined) return 'client_secret_post';
  if (ctx.get('authorization') !== '') return 'client_secret_basic';
  return 'none';
}

/** The client id an unidentified request named: `client_id`, or the part of Basic credentials before the colon (never what follows). */
function claimedClientId(ctx: KoaContextWithOIDC): string | null {
  const param = ctx.oidc.params?.client_id;
  if (typeof param === 'string') return param.slice(0, MAX_CLAIMED_ID);
  const [scheme, value] = ctx.get('authorization').split(' ');
  if (scheme?.toLowerCase() !== 'basic' || !value) return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, '%20')).slice(0, MAX_CLAIMED_ID);
  } catch {
    return null;
  }
}

function failureReason(error: ProviderError): string {
  const detail = error.error_detail ?? '';
  for (const [pattern, reason] of REASONS) if (pattern.test(detail)) return reason;
  return error.error === 'invalid_request' ? 'request_malformed' : 'authentication_failed';
}

/** What became of the client's authentication, or `null` where none was tried (a public client). */
function outcomeOf(ctx: KoaContextWithOIDC, error: ProviderError | undefined, method: string): Outcome | null {
  const identified = ctx.oidc.client !== undefined;
  if (error?.error === 'invalid_client') return { ok: false, reason: failureReason(error) };
  if (error?.error === 'invalid_request' && (!identified || error.error_description === MIXED_MECHANISMS)) return { ok: false, reason: failureReason(error) };
  if (!identified || method === 'none') return null;
  return { ok: true };
}

/** The token a refused revocation was about, when it belongs to another client (RFC 7009 §2.1). */
function othersToken(ctx: KoaContextWithOIDC): { clientId: string } | null {
  const entities = ctx.oidc.entities as Record<string, { clientId?: unknown } | undefined>;
  for (const kind of REVOCABLE) {
    const token = entities[kind];
    if (token && typeof token.clientId === 'string' && token.clientId !== ctx.oidc.client?.clientId) return { clientId: token.clientId };
  }
  return null;
}

/** Hooks the events into the provider; called where it is built (provider.ts). */
export function auditClientAuthentication(provider: Provider, deps: Deps): void {
  const errors = new WeakMap<object, ProviderError>();
  for (const event of Object.values(ENDPOINT_ERRORS)) {
    provider.on(event as 'grant.error', (ctx: KoaContextWithOIDC, error: ProviderError) => errors.set(ctx, error));
  }
  provider.use(recordAfterEndpoint(deps, errors));
}

function recordAfterEndpoint(deps: Deps, errors: WeakMap<object, ProviderError>): Middleware {
  return async (koa, next) => {
    await next();
    const ctx = koa as unknown as KoaContextWithOIDC;
    const endpoint = ctx.oidc?.route;
    if (!endpoint || !(endpoint in ENDPOINT_ERRORS)) return;
    try {
      await record(deps, ctx, endpoint, errors.get(ctx));
    } catch (error) {
      deps.log.warn({ event: 'audit.failed', endpoint, err: { message: (error as Error).message } }, 'a client authentication could not be audited');
    }
  };
}

async function record(deps: Deps, ctx: KoaContextWithOIDC, endpoint: string, error: ProviderError | undefined): Promise<void> {
  const method = presentedMethod(ctx);
  const outcome = outcomeOf(ctx, error, method);
  if (!outcome) return;
  const context = { ip: ctx.ip.slice(0, 64), userAgent: String(ctx.get('user-agent')).slice(0, 512) };
  const client = ctx.oidc.client?.clientId;
  const at = deps.clock();
  if (outcome.ok) {
    await deps.store.audit.append({ type: 'oidc.client.authentication', outcome: 'success', context, details: { client, method, endpoint }, at });
    const other = endpoint === 'revocation' && error ? othersToken(ctx) : null;
    if (client && other) {
      const audited = await auditRefusal(deps, `client:${client}`, {
        type: 'authorization.refused',
        outcome: 'failure',
        reason: 'token_of_another_client',
        context,
        details: { client, route: 'oidc revocation', tokenClient: other.clientId },
        at,
      });
      deps.metrics.securityEvents.inc({ event: 'authorization.refused', reason: 'token_of_another_client' });
      deps.log.warn({ event: 'authorization.refused', reason: 'token_of_another_client', client, route: 'oidc revocation', ip: context.ip, audited }, 'security event: a client tried to revoke another client\'s token');
    }
    return;
  }
  // A client that does not exist has no trail to write to, and its id is whatever the request says:
  // logged (bounded), not audited. A known client's failures are audited within its budget.
  const claimed = client ?? claimedClientId(ctx);
  const audited = client
    ? await auditRefusal(deps, `client:${client}`, { type: 'oidc.client.authentication', outcome: 'failure', reason: outcome.reason, context, details: { client, method, endpoint }, at })
    : false;
  deps.metrics.securityEvents.inc({ event: 'oidc.client_auth_failed', reason: outcome.reason });
  deps.log.warn({ event: 'oidc.client_auth_failed', reason: outcome.reason, client: claimed, method, endpoint, ip: context.ip, audited }, 'security event: an OAuth client failed to authenticate');
}
