import { ACR, type Acr, type FactorEvidence } from '../assurance/level.ts';
import { EVIDENCE_FACTOR } from '../../codes/factors.ts';
import { codeFactorAllowed, passkeyAllowed, type RolePolicy } from '../policy.ts';
import type { Check, CheckResult } from './engine.ts';

/**
 * The checks Keybound always runs, written as engine checks: the role's sign-in policy (was in
 * `completeSignIn`), the definition of a fresh session (was in services/freshness.ts and the route
 * gates). What an authorization request asks is a check beside `unmetBy` (oidc/requirements.ts).
 */

/** A role's sign-in policy: every factor allowed for the role, and the level at least the role's minimum. */
export interface RoleInput {
  readonly policy: RolePolicy;
  readonly factors: readonly FactorEvidence[];
  readonly aal: 1 | 2 | 3;
}

export const roleFactorsCheck: Check<RoleInput> = {
  name: 'role_factors',
  run: ({ policy, factors }) =>
    factors.map((factor): CheckResult => {
      const problem = factor.kind === 'passkey' ? passkeyAllowed(policy, factor) : codeFactorAllowed(policy, EVIDENCE_FACTOR[factor.kind]);
      return problem ? { requires: 'deny', reason: problem } : 'satisfied';
    }),
};

export const roleLevelCheck: Check<RoleInput> = {
  name: 'role_level',
  run: ({ policy, aal }) => (aal < policy.minAal ? { requires: 'deny', reason: 'factor_not_allowed' } : 'satisfied'),
};

export const ROLE_CHECKS = [roleFactorsCheck, roleLevelCheck] as const;

/** A session as the freshness checks see it; `passkeyActive` is whether its passkey is still usable. */
export interface FreshInput {
  readonly session: { readonly passkeyId: string | null; readonly aal: 1 | 2 | 3; readonly authTime: number };
  readonly passkeyActive: boolean;
  readonly now: number;
  /** KEYBOUND_FRESH_AUTH_MAX_AGE, in ms. */
  readonly maxAgeMs: number;
  readonly minAal?: 2 | 3;
}

/** A fresh session is asked for with a passkey sign-in: at least AAL2 phishing-resistant, or AAL3. */
const freshRequirement = (input: FreshInput) => ({ acr: (input.minAal === 3 ? ACR.aal3 : ACR.aal2PhishingResistant) as Acr, maxAge: Math.floor(input.maxAgeMs / 1000) });

export const FRESH_CHECKS: readonly Check<FreshInput>[] = [
  { name: 'fresh_passkey', run: (i) => (i.session.passkeyId === null ? { requires: freshRequirement(i), reason: 'passkey_required' } : 'satisfied') },
  { name: 'fresh_max_age', run: (i) => (i.now - i.session.authTime > i.maxAgeMs ? { requires: freshRequirement(i), reason: 'max_age' } : 'satisfied') },
  { name: 'fresh_level', run: (i) => (i.minAal !== undefined && i.session.aal < i.minAal ? { requires: freshRequirement(i), reason: 'acr_unmet' } : 'satisfied') },
  { name: 'fresh_passkey_usable', run: (i) => (i.session.passkeyId !== null && !i.passkeyActive ? { requires: freshRequirement(i), reason: 'passkey_unusable' } : 'satisfied') },
];
