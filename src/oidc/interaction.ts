import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { errors, type Interaction } from 'oidc-provider';
import { acrSatisfies, type Acr } from '../core/assurance/level.ts';
import type { Account, Session } from '../core/model.ts';
import { passkeyAllowed } from '../core/policy.ts';
import { authenticate, authenticateSignedIn, ceremonyRateLimit } from '../http/auth.ts';
import { requestContext, setSessionCookie } from '../http/context.ts';
import { renderErrorPage } from '../http/pages/error.ts';
import { sendFailure } from '../http/reply.ts';
import { authenticationOptionsBody, authenticationVerifyBody } from '../http/schemas.ts';

import type { Deps } from '../services/deps.ts';
import { beginAuthentication, finishAuthentication } from '../services/passkeys/authentication.ts';
import { clientPolicy, OIDC_SCOPES } from './clientPolicy.ts';
import { grantConsent } from './consent.ts';
import type { ProviderHolder } from './holder.ts';
import { renderConsentPage, renderInteractionPage, renderUnreachablePage, type ConsentView } from './pages.ts';
import { authorizeRequirement } from '../services/risk/evaluate.ts';
import { loginRequirement, passkeyCeiling, unmetBy, withPolicy, type LoginRequirement, type RequestParams, type UnmetReason } from './requirements.ts';

/**
 * The provider's sign-in: `/interaction/:uid`. It is the passkey sign-in of the hosted pages (the
 * same `beginAuthentication`/`finishAuthentication`, ending in `completeSignIn`), wrapped in the
 * authorization request's demands. A Keybound session that already meets them finishes at once;
 * otherwise the person runs a fresh ceremony, and the provider is told exactly what that session
 * proved (`acr`, `amr`, `auth_time`), never more.
 */
type Params = { uid: string };

/** The answer of the consent page. */
const consentBody = { type: 'object', additionalProperties: false, required: ['decision'], properties: { decision: { enum: ['allow', 'deny'] } } } as const;

const REASONS: Record<UnmetReason, string> = {
  no_session: 'Sign in with your passkey to continue.',
  fresh_requested: 'This application asks you to confirm it is you: use your passkey again.',
  max_age: 'Your last sign-in is older than this application accepts: use your passkey again.',
  acr_unmet: 'This application needs a stronger sign-in than your current one.',
};

export function registerInteractionRoutes(app: FastifyInstance, deps: Deps, holder: ProviderHolder): void {
  const limited = [sameOrigin(deps), ceremonyRateLimit(deps)];
  const page = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/html; charset=utf-8').send(body);

  /** The interaction named by the signed cookie, if it is the one in the path and still live. */
  async function load(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) {
    let details: Interaction;
    try {
      details = await holder.provider.interactionDetails(request.raw, reply.raw);
    } catch (error) {
      if (error instanceof errors.SessionNotFound) return null;
      throw error;
    }
    if (details.uid !== request.params.uid) return null;
    const client = await holder.provider.Client.find(String(details.params.client_id));
    if (!client) return null;
    const policy = clientPolicy(client);
    return { details, policy, clientName: client.clientName ?? client.clientId, requirement: withPolicy(loginRequirement(details.params as RequestParams, policy.minAcr), authorizeRequirement(deps, { clientId: client.clientId, sensitive: policy.sensitive })) };
  }

  const finish = (request: FastifyRequest, reply: FastifyReply, session: Session) =>
    holder.provider.interactionResult(
      request.raw,
      reply.raw,
      { login: { accountId: session.accountId, acr: session.acr, amr: [...session.amr], ts: Math.floor(session.authTime / 1000), remember: true } },
      { mergeWithLastSubmission: false },
    );

  app.get<{ Params: Params }>('/interaction/:uid', async (request, reply) => {
    const found = await load(request, reply);
    if (!found) return page(reply, 400, renderErrorPage({ code: 'interaction_expired', title: 'This sign-in request has ended' }));
    const { details, clientName, requirement } = found;
    if (details.prompt.name === 'consent') {
      // First-party clients are the organisation's own: their grant is made without a screen. Any
      // other client asks the person, whenever oidc-provider's consent prompt fires: no grant yet,
      // `prompt=consent`, or scopes or resources the grant does not hold (OWASP ASVS 5.0 10.7.1).
      if (found.policy.firstParty) return reply.redirect(await grantConsent(holder.provider, request, reply, details), 303);
      const active = await authenticateSignedIn(deps, request);
      if (!active.ok || active.value.account.id !== details.session?.accountId) {
        return page(reply, 400, renderErrorPage({ code: 'interaction_expired', title: 'This sign-in request has ended' }));
      }
      return page(reply, 200, renderConsentPage({ uid: request.params.uid, clientName, username: active.value.account.username, ...askedFor(deps, details) }));
    }
    const uid = request.params.uid;
    if (requirement.unreachable) return page(reply, 403, renderUnreachablePage({ uid, clientName, acr: null }));
    // A recovery session is never a sign-in here: the person signs in with a passkey (README "Recovery").
    const active = await authenticateSignedIn(deps, request);
    const current = active.ok ? active.value : null;
    const unmet = unmetBy(current?.session ?? null, requirement, deps.clock());
    if (current && unmet.length === 0) return reply.redirect(await finish(request, reply, current.session), 303);
    if (current && requirement.acr && !(await canReach(deps, current.account, requirement.acr))) {
      return page(reply, 403, renderUnreachablePage({ uid, clientName, acr: requirement.acr }));
    }
    const reason = REASONS[unmet[unmet.length - 1] ?? 'no_session'];
    return page(reply, 200, renderInteractionPage({ uid, clientName, acr: requirement.acr, reason, username: current && requirement.acr ? current.account.username : null }));
  });

  app.post<{ Params: Params; Body: { username?: string } }>(
    '/interaction/:uid/options',
    { schema: { body: authenticationOptionsBody }, preHandler: limited },
    async (request, reply) => {
      const found = await load(request, reply);
      if (!found) return sendFailure(reply, { code: 'interaction_expired' });
      const options = await beginAuthentication(deps, { username: request.body.username });
      // A step-up of the signed-in person offers only the passkeys that can reach the level, so the
      // browser never suggests one that would be refused. (Only for the session's own account:
      // filtering for any typed username would tell strangers what an account holds.)
      const active = await authenticateSignedIn(deps, request);
      const acr = found.requirement.acr;
      if (acr && active.ok && options.allowCredentials && request.body.username?.trim().toLowerCase() === active.value.account.username) {
        const capable = new Set((await capablePasskeys(deps, active.value.account, acr)).map((p) => p.credentialId));
        return reply.send({ ...options, allowCredentials: options.allowCredentials.filter((c) => capable.has(c.id)) });
      }
      return reply.send(options);
    },
  );

  app.post<{ Params: Params; Body: { response: AuthenticationResponseJSON } }>(
    '/interaction/:uid/verify',
    { schema: { body: authenticationVerifyBody }, preHandler: limited },
    async (request, reply) => {
      const found = await load(request, reply);
      if (!found) return sendFailure(reply, { code: 'interaction_expired' });
      const signedIn = await finishAuthentication(deps, { response: request.body.response, context: requestContext(request), presentedSessionId: await authenticate(deps, request).then((a) => (a.ok ? a.value.session.id : null)) });
      if (!signedIn.ok) return sendFailure(reply, signedIn);
      const { session, account, assurance } = signedIn.value;
      setSessionCookie(reply, deps.config, signedIn.value.token, session, deps.clock());
      const wanted = found.requirement.acr;
      if (wanted && !acrSatisfies(assurance.acr, wanted)) {
        return sendFailure(reply, { code: (await canReach(deps, account, wanted)) ? 'acr_not_reached' : 'acr_unreachable' });
      }
      return reply.send({ redirectTo: await finish(request, reply, session), acr: assurance.acr });
    },
  );

  app.post<{ Params: Params; Body: { decision: 'allow' | 'deny' } }>(
    '/interaction/:uid/consent',
    { schema: { body: consentBody }, preHandler: sameOrigin(deps) },
    async (request, reply) => {
      const found = await load(request, reply);
      if (!found || found.details.prompt.name !== 'consent') return sendFailure(reply, { code: 'interaction_expired' });
      const { details } = found;
      // The person answering is the one the provider signed in, in this browser (never a recovery session).
      const active = await authenticateSignedIn(deps, request);
      if (!active.ok || active.value.account.id !== details.session?.accountId) return sendFailure(reply, { code: 'interaction_expired' });
      const clientId = String(details.params.client_id);
      const allow = request.body.decision === 'allow';
      await deps.store.audit.append({
        type: allow ? 'oidc.consent.granted' : 'oidc.consent.denied',
        outcome: allow ? 'success' : 'failure',
        accountId: active.value.account.id,
        context: requestContext(request),
        at: deps.clock(),
        details: { clientId, ...askedFor(deps, details) },
      });
      const redirectTo = allow
        ? await grantConsent(holder.provider, request, reply, details)
        : // RFC 6749 §4.1.2.1: "The resource owner or authorization server denied the request."
          await holder.provider.interactionResult(request.raw, reply.raw, { error: 'access_denied', error_description: 'the person did not allow access' }, { mergeWithLastSubmission: false });
      return reply.send({ redirectTo });
    },
  );

  app.post<{ Params: Params }>('/interaction/:uid/abort', { preHandler: sameOrigin(deps) }, async (request, reply) => {
    const found = await load(request, reply);
    if (!found) return sendFailure(reply, { code: 'interaction_expired' });
    const result = (await cannotBeMet(deps, request, found.requirement))
      ? // "unable to meet the requirements of the Relying Party for the authentication of the End-User"
        // (OpenID Connect Core Error Code unmet_authentication_requirements 1.0, §2).
        { error: 'unmet_authentication_requirements', error_description: 'the account has no authenticator that reaches the requested authentication level' }
      : { error: 'access_denied', error_description: 'the person cancelled the sign-in' };
    return reply.send({ redirectTo: await holder.provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: false }) });
  });
}

/** What the authorization request asks for: its OpenID scopes, and each API with the scopes the client may have there. */
function askedFor(deps: Deps, details: Interaction): Pick<ConsentView, 'scopes' | 'resources'> {
  const asked = typeof details.params.scope === 'string' ? details.params.scope.split(' ').filter(Boolean) : [];
  const resource = details.params.resource;
  const resources = Array.isArray(resource) ? resource.map(String) : typeof resource === 'string' ? [resource] : [];
  const apiScopes = asked.filter((s) => deps.config.oidc.resourceScopes.includes(s));
  return {
    scopes: asked.filter((s) => (OIDC_SCOPES as readonly string[]).includes(s)),
    resources: resources.map((r) => ({ resource: r, scopes: apiScopes })),
  };
}

async function cannotBeMet(deps: Deps, request: FastifyRequest, requirement: LoginRequirement): Promise<boolean> {
  if (requirement.unreachable) return true;
  if (!requirement.acr) return false;
  const active = await authenticateSignedIn(deps, request);
  return active.ok && !(await canReach(deps, active.value.account, requirement.acr));
}

/** Active passkeys the account's role allows that can reach `acr` (AAL3: device-bound, attestation trusted). */
async function capablePasskeys(deps: Deps, account: Account, acr: Acr) {
  const passkeys = await deps.store.passkeys.listByAccount(account.id);
  return passkeys.filter((p) => p.status === 'active' && passkeyAllowed(deps.policies[account.role], p) === null && acrSatisfies(passkeyCeiling(p), acr));
}

async function canReach(deps: Deps, account: Account, acr: Acr): Promise<boolean> {
  return (await capablePasskeys(deps, account, acr)).length > 0;
}

/** The interaction API is called by our own page only: refuse cross-site callers outright. */
function sameOrigin(deps: Deps): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    const origin = request.headers.origin;
    const allowed = origin !== undefined ? deps.config.origins.includes(origin) : request.headers['sec-fetch-site'] === 'same-origin';
    if (!allowed) return sendFailure(reply, { code: 'origin_not_allowed' });
  };
}
