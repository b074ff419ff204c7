import type { Acr } from '../assurance/level.ts';
import { CAPABILITY_NOUN } from './capabilities.ts';
import { governedPaths, selfServicePaths } from './build.ts';
import { findingsFor } from './findings.ts';
import { acrBelow, lowestAcr } from './levels.ts';
import type { AccountFacts, Analysis, Path, RolePathPolicy } from './model.ts';

/**
 * The account's effective level: the lowest level over its self-service paths. An account is as
 * strong as its weakest way in (DESIGN.md "Governance"); governed paths are reported apart.
 */
export function effectiveAcr(paths: readonly Pick<Path, 'grantsAcr'>[]): Acr | null {
  return lowestAcr(paths.map((p) => p.grantsAcr));
}

/** Every way into one account, what opens each, the level it really has, and what is wrong. */
export function analyseAccount(facts: AccountFacts, role: RolePathPolicy): Analysis {
  const paths = selfServicePaths(facts, role);
  const governed = governedPaths(facts, role.assisted);
  const effective = effectiveAcr(paths);
  const findings = findingsFor({ facts, paths, governed, requiredAcr: role.requiredAcr, effectiveAcr: effective, assisted: role.assisted, recoveryNeedsProof: role.policy.recovery.enabled && role.policy.recovery.proofs.length > 0 });
  return { account: facts.username, role: facts.role, requiredAcr: role.requiredAcr, effectiveAcr: effective, paths, governedPaths: governed, findings, advice: adviceFor(paths, effective) };
}

/**
 * What to change to raise the effective level: for each path at the lowest level (when stronger
 * ones exist), what removing it takes away from an attacker.
 */
export function adviceFor(paths: readonly Path[], effective: Acr | null): string[] {
  if (effective === null) return ['Enrol a passkey: the account has no way in.'];
  const stronger = paths.some((p) => acrBelow(effective, p.grantsAcr));
  if (!stronger) return [];
  return paths
    .filter((p) => p.grantsAcr === effective)
    .map((p) => {
      const single = p.capabilities.filter((s) => s.length === 1).map((s) => CAPABILITY_NOUN[s[0]!]);
      const what = REMOVE[p.kind === 'recovery' ? 'recovery' : p.kind === 'device_link' ? 'device_link' : p.id] ?? `remove "${p.label}"`;
      return single.length > 0 ? `${capitalise(what)}: ${single.join(' or ')} is then no longer enough.` : `${capitalise(what)}.`;
    });
}

const REMOVE: Readonly<Record<string, string>> = {
  'code:sms': 'remove text messages',
  'code:email': 'remove email codes',
  'code:totp': 'remove the authenticator app as a sign-in',
  device_link: 'use or let expire the waiting device link',
  recovery: 'replace one-code recovery with recovery that needs a second proof (KEYBOUND_<ROLE>_RECOVERY=code+totp), or remove recovery codes and add a second passkey',
};

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The path an account would gain that takes it below its role's level, or null (the policy guard). */
export function weakeningPath(before: Analysis, after: Analysis): Path | null {
  if (!acrBelow(after.effectiveAcr, after.requiredAcr)) return null;
  if (!acrBelow(after.effectiveAcr, before.effectiveAcr)) return null;
  const known = new Set(before.paths.map((p) => p.id));
  return after.paths.find((p) => !known.has(p.id) && p.grantsAcr === after.effectiveAcr) ?? after.paths.find((p) => p.grantsAcr === after.effectiveAcr) ?? null;
}
