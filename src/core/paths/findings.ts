import { acrBelow, acrName, highestAcr, lowestAcr } from './levels.ts';
import type { AccountFacts, AssistedRecoverySettings, Finding, FindingCode, Path } from './model.ts';
import type { Acr } from '../assurance/level.ts';

/**
 * Independence findings (docs/paths.md "Findings"): each a stable code and a sentence that says what
 * is wrong and what to do. Pure: the same facts and paths give the same findings, in this order.
 */
export function findingsFor(input: { facts: AccountFacts; paths: readonly Path[]; governed: readonly Path[]; requiredAcr: Acr; effectiveAcr: Acr | null; assisted: AssistedRecoverySettings; recoveryNeedsProof: boolean }): Finding[] {
  const { facts, paths, governed, requiredAcr, effectiveAcr } = input;
  const out: Finding[] = [];
  const add = (code: FindingCode, message: string) => out.push({ code, message });
  const has = (id: string) => paths.some((p) => p.id === id);
  const signIns = paths.filter((p) => p.kind === 'sign_in');
  const recoveries = paths.filter((p) => p.kind === 'recovery');

  if (effectiveAcr !== null && acrBelow(effectiveAcr, requiredAcr)) {
    const weakest = paths.filter((p) => p.grantsAcr === effectiveAcr).map((p) => p.label.toLowerCase());
    add('below_required_level', `The account's weakest way in (${weakest.join('; ')}) gives ${acrName(effectiveAcr)}, below the ${acrName(requiredAcr)} its role requires.`);
  }
  if (paths.length === 0 && facts.status !== 'offboarded') add('no_self_service_path', 'The holder has no way in of their own: only an administrator can let them in again. Enrol a passkey.');
  const passkeys = signIns.filter((p) => p.factors.includes('passkey'));
  if (passkeys.length === 1 && paths.length === 1) add('single_passkey_no_recovery', 'One passkey and no other way in: losing that device locks the holder out. Add a second passkey on another device, or save recovery codes.');
  if (facts.passkeys.length > 0 && facts.passkeys.every((p) => p.backupEligible)) add('syncable_passkeys_only', 'Every passkey syncs through a cloud account: whoever takes that account over signs in. Add a device-bound passkey (a security key) and protect the sync account with a passkey of its own.');
  if (facts.passkeys.some((p) => !p.userVerified)) add('passkey_without_user_verification', 'A passkey was registered without user verification (no PIN or biometric): anyone holding the device signs in with it, and it counts as one factor only.');
  if (has('code:email') && has('recovery:code+email')) add('shared_mailbox', 'Email codes sign in, and the same mailbox is the second proof of a recovery: the recovery adds nothing against whoever reads that mailbox. Remove email codes, or use another second proof.');
  if (has('code:sms') && has('recovery:code+sms')) add('shared_phone', 'Text-message codes sign in, and the same phone number is the second proof of a recovery: a SIM swap helps with both. Remove text messages, or use another second proof.');
  if (has('code:totp') && has('recovery:code+totp')) add('shared_authenticator_app', 'The authenticator app signs in on its own and is also the second proof of a recovery: whoever holds the app needs the recovery codes only to bind a passkey. Keep the app for recovery only.');
  const strongestSignIn = highestAcr(signIns.map((p) => p.grantsAcr));
  const weakestRecovery = lowestAcr(recoveries.map((p) => p.grantsAcr));
  if (strongestSignIn !== null && weakestRecovery !== null && acrBelow(weakestRecovery, strongestSignIn)) {
    add('recovery_weaker_than_sign_in', `Recovery gives ${acrName(weakestRecovery)}, less than the ${acrName(strongestSignIn)} of the best sign-in: an attacker goes round the passkey through recovery. Keep recovery codes offline, and use a second proof no sign-in uses.`);
  }
  const recovery = input.recoveryNeedsProof && facts.recoveryCodes > 0 && recoveries.length === 0;
  if (recovery) add('recovery_proof_missing', 'Recovery codes are saved, but the role needs a second proof and none is bound: recovery cannot be completed. Bind an authenticator app (or a phone or email for recovery), or add a second passkey.');
  const codes = signIns.filter((p) => !p.factors.includes('passkey'));
  if (passkeys.length > 0 && codes.length > 0) add('phishable_sign_in', 'Besides the passkey, one-time codes sign in on their own: a phishing relay opens the account though the passkey cannot be phished. Remove the code factors.');
  if (has('code:sms')) add('sms_sign_in', 'Text-message codes sign in on their own: a SIM swap alone opens the account. Remove text messages.');
  if (has('code:email')) add('email_sign_in', 'Email codes sign in on their own: whoever reads the mailbox signs in, and NIST does not accept email as an authenticator. Remove email codes.');
  if (paths.some((p) => p.kind === 'device_link')) add('pending_device_link', 'A device link is waiting to be used: whoever opens it first adds a passkey. Use it, or let it expire.');
  if (governed.some((p) => p.kind === 'enrolment_link')) add('pending_enrolment_link', 'An enrolment link from an administrator is waiting to be used: whoever opens it first adds a passkey.');
  if (governed.some((p) => p.kind === 'assisted_recovery')) {
    if (input.assisted.activeAdmins < 2) add('assisted_recovery_single_approver', 'Fewer than two active administrators: one administrator alone can recover this account. Appoint a second administrator.');
    if (input.assisted.delayMs === 0) add('assisted_recovery_no_delay', 'Assisted recovery has no waiting period: the holder cannot cancel a recovery they did not ask for. Set a delay for the role.');
  }
  return out;
}
