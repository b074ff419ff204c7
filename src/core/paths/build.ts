import { ACR, assess, type Acr } from '../assurance/level.ts';
import { codeFactorAllowed, passkeyAllowed } from '../policy.ts';
import type { Capability } from './capabilities.ts';
import { lowerAcr } from './levels.ts';
import type { AccountFacts, AssistedRecoverySettings, PasskeyFact, Path, RolePathPolicy } from './model.ts';
import { allOf, minimalSets, withEach, type CapabilitySet } from './sets.ts';

/** Ways to defeat one proof, each a minimal set. */
type Ways = readonly CapabilitySet[];

/**
 * What defeats each proof on its own (docs/paths.md "Capabilities"). A passkey answers only on
 * its device, for its own origin (no relay); a syncable one also on any device of its sync
 * account. Every typed code can be relayed (NIST SP 800-63B-4 §3.2.5: none is phishing-resistant),
 * and each also falls to whatever holds it.
 */
export function passkeyWays(passkey: Pick<PasskeyFact, 'backupEligible'>): Ways {
  const device: CapabilitySet[] = [['device_theft_unlocked'], ['device_malware']];
  return passkey.backupEligible ? [...device, ['sync_account_takeover']] : device;
}

export const CODE_WAYS: Readonly<Record<'totp' | 'sms' | 'email' | 'recovery_code', Ways>> = {
  totp: [['phishing_relay'], ['totp_seed_theft'], ['device_theft_unlocked'], ['device_malware']],
  sms: [['phishing_relay'], ['sim_swap'], ['device_theft_unlocked'], ['device_malware']],
  email: [['phishing_relay'], ['mailbox_takeover']],
  recovery_code: [['phishing_relay'], ['stolen_recovery_codes']],
};

const CODE_LABEL = { totp: 'an authenticator app code', sms: 'a text-message code', email: 'an email code' } as const;

/** The level the proofs of a recovery establish: NIST SP 800-63B-4 §4.2. */
function recoveryGrant(secondProof: boolean): Acr {
  // One saved recovery code is one thing held: `assess` ranks it AAL1, whatever it then binds.
  const code = assess([{ kind: 'recovery_code' }]).acr;
  // §4.2 accepts a saved code together with an authenticator still bound (or a code sent to a
  // verified address) as recovery for an AAL2 account: two independent proofs, neither of them
  // phishing-resistant, so AAL2 and never AAL2 phishing-resistant.
  return secondProof ? ACR.aal2 : code;
}

/**
 * Every path into the account that its holder (or whoever holds what the holder holds) can take
 * alone: sign-in with each passkey and each code factor the role lets sign in, self-service
 * recovery per the role's rule with each second proof bound, and device links issued from the
 * holder's sessions. Sorted by id, so the answer does not depend on the order things were added.
 */
export function selfServicePaths(facts: AccountFacts, role: RolePathPolicy): Path[] {
  if (facts.status === 'offboarded') return [];
  const paths: Path[] = [];
  for (const passkey of facts.passkeys) {
    // A syncable passkey the role does not accept is refused at sign-in (core/policy.ts passkeyAllowed): no way in.
    if (passkeyAllowed(role.policy, passkey) !== null) continue;
    const { acr } = assess([{ kind: 'passkey', userPresent: true, userVerified: passkey.userVerified, backupEligible: passkey.backupEligible, attestationTrusted: passkey.attestationTrusted }]);
    const kind = passkey.backupEligible ? 'syncable passkey' : 'device-bound passkey';
    paths.push({ id: `passkey:${passkey.id}`, kind: 'sign_in', factors: ['passkey'], grantsAcr: acr, capabilities: minimalSets(passkeyWays(passkey)), label: `Sign-in with the ${kind} "${passkey.nickname}"` });
  }
  const bound = new Set(facts.codeFactors.map((f) => f.factor));
  for (const factor of [...bound].sort()) {
    if (codeFactorAllowed(role.policy, factor) !== null) continue;
    paths.push({ id: `code:${factor}`, kind: 'sign_in', factors: [factor], grantsAcr: assess([{ kind: factor === 'totp' ? 'totp' : factor === 'sms' ? 'sms_code' : 'email_code' }]).acr, capabilities: minimalSets(CODE_WAYS[factor]), label: `Sign-in with ${CODE_LABEL[factor]}` });
  }
  const recovery = role.policy.recovery;
  if (recovery.enabled && facts.recoveryCodes > 0) {
    if (recovery.proofs.length === 0) {
      paths.push({ id: 'recovery:code', kind: 'recovery', factors: ['recovery_code'], grantsAcr: recoveryGrant(false), capabilities: minimalSets(CODE_WAYS.recovery_code), label: 'Recovery with one saved recovery code' });
    } else {
      for (const proof of [...recovery.proofs].sort()) {
        if (!bound.has(proof)) continue;
        paths.push({
          id: `recovery:code+${proof}`,
          kind: 'recovery',
          factors: ['recovery_code', proof],
          grantsAcr: recoveryGrant(true),
          capabilities: allOf([CODE_WAYS.recovery_code, CODE_WAYS[proof]]),
          label: `Recovery with a saved recovery code and ${CODE_LABEL[proof]}`,
        });
      }
    }
  }
  for (const link of facts.links) {
    if (link.kind !== 'device') continue;
    // A device link is a bearer secret: whoever holds it enrols, so it proves no more than AAL2
    // (not phishing-resistant), and never more than the session that issued it (63B-4 §4.1.2).
    const issued: Acr = link.maxAal === 3 ? ACR.aal3 : link.maxAal === 2 ? ACR.aal2 : ACR.aal1;
    paths.push({
      id: `device_link:${link.id}`,
      kind: 'device_link',
      factors: ['device_link'],
      grantsAcr: lowerAcr(issued, ACR.aal2),
      capabilities: minimalSets([['link_interception'], ['device_theft_unlocked'], ['device_malware']]),
      label: 'An unused device link issued from one of your sessions',
    });
  }
  return paths.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Paths that people decide (issue 12): assisted recovery and administrators' enrolment links.
 * Listed with what opens them and their safeguards, never folded into the effective level.
 */
export function governedPaths(facts: AccountFacts, assisted: AssistedRecoverySettings): Path[] {
  if (facts.status === 'offboarded') return [];
  const paths: Path[] = [];
  // With fewer than two administrators the operator's CLI requests alone (issue 12, bootstrap).
  if (assisted.enabled) {
    const twoPeople = assisted.activeAdmins >= 2;
    const people: CapabilitySet[] = twoPeople ? [['two_admin_collusion'], ['help_desk_social_engineering']] : [['rogue_admin'], ['help_desk_social_engineering']];
    // With a delay the holder is told and can cancel: the attacker must also keep the holder from acting.
    const waits = assisted.delayMs > 0;
    const capabilities = waits ? withEach(people, 'notice_suppression' satisfies Capability) : minimalSets(people);
    const safeguards = [
      twoPeople ? 'a second administrator, neither the requester nor the holder, must approve' : 'fewer than two active administrators: one administrator, or the operator at the command line, requests alone',
      waits ? `a wait of ${formatDelay(assisted.delayMs)} after approval, during which the holder is told on every channel and can cancel` : 'no waiting period: the holder is told but cannot cancel in time',
      facts.noticeChannel ? 'the holder is told at request, approval and release' : 'the holder has no email address or phone bound, so only sees it on signing in',
      'every step is audited',
    ];
    paths.push({ id: 'assisted_recovery', kind: 'assisted_recovery', factors: ['admin_approval'], grantsAcr: ACR.aal1, capabilities, label: 'Assisted recovery by administrators', safeguards });
  }
  for (const link of facts.links) {
    if (link.kind !== 'enrolment') continue;
    paths.push({
      id: `enrolment_link:${link.id}`,
      kind: 'enrolment_link',
      factors: ['enrolment_link'],
      grantsAcr: ACR.aal1,
      capabilities: [['link_interception']],
      label: 'An unused enrolment link issued by an administrator',
      safeguards: ['single use', 'expires on its own'],
    });
  }
  return paths.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function formatDelay(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}
