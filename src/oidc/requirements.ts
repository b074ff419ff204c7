import { ACR_VALUES, acrSatisfies, assess, isAcr, type Acr } from '../core/assurance/level.ts';
import type { Check, CheckResult } from '../core/risk/engine.ts';

/**
 * What an authorization request asks of the sign-in behind it, and whether a Keybound session
 * gives it. Pure: the interaction policy (policy.ts) and the interaction pages (interaction.ts)
 * both decide with these functions, so they cannot disagree.
 */
export interface LoginRequirement {
  /** Weakest acceptable level, or `null` when the request names none Keybound knows. */
  readonly acr: Acr | null;
  /** The request named only levels Keybound does not know, as an essential claim: nothing can satisfy it. */
  readonly unreachable: boolean;
  /** Longest acceptable time since authentication, in seconds. */
  readonly maxAgeS: number | null;
  /** A new ceremony is required whatever the session (prompt=login, or max_age=0). */
  readonly fresh: boolean;
}

export interface RequestParams {
  readonly acr_values?: unknown;
  readonly max_age?: unknown;
  readonly prompt?: unknown;
  readonly claims?: unknown;
}

const RANK = new Map<Acr, number>(ACR_VALUES.map((acr, i) => [acr, i]));

/** The weakest known value of a list: our levels are ordered, so meeting it meets the request. */
export function weakestKnown(values: readonly unknown[]): Acr | null {
  const known = values.filter((v): v is Acr => typeof v === 'string' && isAcr(v));
  if (known.length === 0) return null;
  return known.reduce((a, b) => (RANK.get(a)! <= RANK.get(b)! ? a : b));
}

/** `claims.id_token.acr` when marked essential (OpenID Connect Core §5.5.1.1). */
function essentialAcrValues(claims: unknown): readonly unknown[] | null {
  let parsed: unknown = claims;
  if (typeof claims === 'string') {
    try {
      parsed = JSON.parse(claims);
    } catch {
      return null; // oidc-provider has already refused a malformed claims parameter.
    }
  }
  const acr = (parsed as { id_token?: { acr?: { essential?: unknown; value?: unknown; values?: unknown } } } | null)?.id_token?.acr;
  if (!acr || acr.essential !== true) return null;
  if (Array.isArray(acr.values)) return acr.values;
  return acr.value === undefined ? null : [acr.value];
}

/**
 * Reads the request. `acr_values` is a voluntary request (Core §3.1.2.1): values Keybound does not
 * know are ignored, and when none is known the sign-in goes ahead and the ID token says the level
 * reached. An essential `acr` claim (Core §5.5.1.1) naming only unknown values cannot be met.
 * "max_age=0 is equivalent to prompt=login" (Core §3.1.2.1).
 *
 * `minimum` is the client's own floor (clientPolicy.ts `keybound_min_acr`, OWASP ASVS 5.0 6.3.3): a
 * request that names no level, or a weaker one, is raised to it, so the client never receives a code
 * from a weaker sign-in.
 */
export function loginRequirement(params: RequestParams, minimum: Acr | null = null): LoginRequirement {
  const voluntary = typeof params.acr_values === 'string' ? params.acr_values.split(' ').filter(Boolean) : [];
  const essential = essentialAcrValues(params.claims);
  const wanted = [...voluntary, ...(essential ?? [])];
  const maxAge = typeof params.max_age === 'number' ? params.max_age : typeof params.max_age === 'string' && /^\d+$/.test(params.max_age) ? Number(params.max_age) : null;
  const prompts = typeof params.prompt === 'string' ? params.prompt.split(' ') : [];
  const asked = weakestKnown(wanted);
  return {
    acr: asked === null ? minimum : minimum === null ? asked : RANK.get(minimum)! > RANK.get(asked)! ? minimum : asked,
    unreachable: essential !== null && weakestKnown(essential) === null,
    maxAgeS: maxAge,
    fresh: prompts.includes('login') || maxAge === 0,
  };
}

/**
 * The request's requirement joined with what the risk policy asks of this client (docs/risk.md): the
 * stronger level, the shorter age; a policy deny makes it unreachable. The ID token still says what
 * the sign-in reached (`acr`, `auth_time`): the policy only asks for more, it never claims more.
 */
export function withPolicy(requirement: LoginRequirement, policy: { readonly acr: Acr | null; readonly maxAge: number | null } | 'deny' | null): LoginRequirement {
  if (policy === null) return requirement;
  if (policy === 'deny') return { ...requirement, unreachable: true };
  const acr = policy.acr === null ? requirement.acr : requirement.acr === null ? policy.acr : RANK.get(policy.acr)! > RANK.get(requirement.acr)! ? policy.acr : requirement.acr;
  const maxAgeS = policy.maxAge === null ? requirement.maxAgeS : requirement.maxAgeS === null ? policy.maxAge : Math.min(policy.maxAge, requirement.maxAgeS);
  return { ...requirement, acr, maxAgeS, fresh: requirement.fresh || policy.maxAge === 0 };
}

export type UnmetReason = 'no_session' | 'fresh_requested' | 'max_age' | 'acr_unmet';

/** Why a session (acr reached, authentication time in ms) does not serve the request; empty when it does. */
export function unmetBy(session: { readonly acr: Acr; readonly authTime: number } | null, requirement: LoginRequirement, now: number): UnmetReason[] {
  if (!session) return ['no_session'];
  const reasons: UnmetReason[] = [];
  if (requirement.fresh) reasons.push('fresh_requested');
  if (requirement.maxAgeS !== null && now - session.authTime > requirement.maxAgeS * 1000) reasons.push('max_age');
  if (requirement.acr && !acrSatisfies(session.acr, requirement.acr)) reasons.push('acr_unmet');
  return reasons;
}

/** The best level a passkey can reach: what a sign-in with it (user verified) would be assessed at. */
export function passkeyCeiling(passkey: { readonly backupEligible: boolean; readonly attestationTrusted: boolean }): Acr {
  return assess([{ kind: 'passkey', userPresent: true, userVerified: true, backupEligible: passkey.backupEligible, attestationTrusted: passkey.attestationTrusted }]).acr;
}

/** What an authorization request asks, against the Keybound session behind it. */
export interface AuthorizeInput {
  readonly session: { readonly acr: Acr; readonly authTime: number } | null;
  readonly requirement: LoginRequirement;
  readonly now: number;
}

export const AUTHORIZE_CHECK: Check<AuthorizeInput> = {
  name: 'authorization_request',
  run: ({ session, requirement, now }) => {
    if (requirement.unreachable) return { requires: 'deny', reason: 'acr_unreachable' };
    const requires = { acr: requirement.acr, maxAge: requirement.fresh ? 0 : requirement.maxAgeS };
    return unmetBy(session, requirement, now).map((reason): CheckResult => ({ requires, reason }));
  },
};
