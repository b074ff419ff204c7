import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { isAcr } from '../core/assurance/level.ts';
import type { Deps } from '../services/deps.ts';
import { isSignIn, resolveSession } from '../services/sessions.ts';
import { sessionCookieName } from '../http/context.ts';
import { clientPolicy, DEFAULT_MIN_ACR } from './clientPolicy.ts';
import { loginRequirement, unmetBy, withPolicy, type RequestParams } from './requirements.ts';
import { authorizeRequirement } from '../services/risk/evaluate.ts';

const { Check, base } = interactionPolicy;

/**
 * The interaction policy: oidc-provider's login and consent prompts, with two named checks added
 * to login and its exact-match `essential_acr(s)` checks replaced (our levels are ordered, so a
 * stronger level meets a request for a weaker one; requirements.ts decides):
 *
 * - `keybound_session`: the provider's session must mirror a live Keybound session (same account,
 *   level and authentication time). Signing out of Keybound, a revoked session, or a new sign-in
 *   at another level therefore ends or refreshes single sign-on at the next authorization request.
 * - `acr_unmet`: the level the session reached must meet `acr_values` / an essential `acr` claim,
 *   which oidc-provider otherwise treats as voluntary and ignores, and never less than the client's
 *   minimum (clientPolicy.ts), asked for or not.
 *
 * `max_age` and `prompt=login` keep oidc-provider's own checks (`max_age`, `login_prompt`).
 * With `prompt=none` any of these answers `login_required` (Core §3.1.2.6).
 */
export function keyboundPolicy(deps: Deps): interactionPolicy.DefaultPolicy {
  const policy = base();
  const login = policy.get('login')!;
  login.checks.remove('essential_acr');
  login.checks.remove('essential_acrs');
  const afterNoSession = login.checks.findIndex((c) => c.reason === 'no_session') + 1;
  // Checks added after the prompt is built get no error code of their own (oidc-provider would
  // answer `interaction_required`); with prompt=none, Core §3.1.2.6 `login_required` is the answer
  // when "the Authorization Server requires End-User authentication".
  login.checks.add(new Check('keybound_session', 'the Keybound session ended, or changed since this single sign-on began', 'login_required', (ctx) => mirrorsKeyboundSession(deps, ctx)), afterNoSession);
  login.checks.add(
    new Check(
      'acr_unmet',
      'the authentication level asked for was not reached',
      'login_required',
      (ctx) => {
        const { session, params } = ctx.oidc;
        const client = ctx.oidc.client ? clientPolicy(ctx.oidc.client) : null;
        // The risk policy's word on this client joins the request's (docs/risk.md); the request's own
        // max_age and prompt=login are oidc-provider's checks, the policy's age is checked here.
        const risk = ctx.oidc.client ? authorizeRequirement(deps, { clientId: ctx.oidc.client.clientId, sensitive: client!.sensitive }) : null;
        const requirement = withPolicy(loginRequirement((params ?? {}) as RequestParams, client ? client.minAcr : DEFAULT_MIN_ACR), risk);
        const riskMaxAge = risk !== null && risk !== 'deny' ? risk.maxAge : null;
        if (!requirement.acr && !requirement.unreachable && riskMaxAge === null) return Check.NO_NEED_TO_PROMPT;
        if (!session?.accountId || !session.acr || !isAcr(session.acr) || requirement.unreachable) return Check.REQUEST_PROMPT;
        const unmet = unmetBy({ acr: session.acr, authTime: (session.loginTs ?? 0) * 1000 }, { ...requirement, fresh: riskMaxAge === 0, maxAgeS: riskMaxAge }, deps.clock());
        return unmet.length > 0 ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
      },
      ({ oidc }) => ({ acr_values: oidc.params?.acr_values }),
    ),
  );
  return policy;
}

async function mirrorsKeyboundSession(deps: Deps, ctx: KoaContextWithOIDC): Promise<boolean> {
  const { session } = ctx.oidc;
  if (!session?.accountId) return Check.NO_NEED_TO_PROMPT; // `no_session` asks for the sign-in.
  const active = await resolveSession(deps, ctx.cookies.get(sessionCookieName(deps.config)) ?? undefined);
  // A recovery session (README "Recovery") is never a sign-in for single sign-on.
  if (!active.ok || !isSignIn(active.value.session)) return Check.REQUEST_PROMPT;
  const kb = active.value.session;
  const same = kb.accountId === session.accountId && kb.acr === session.acr && Math.floor(kb.authTime / 1000) === session.loginTs;
  return same ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
}
