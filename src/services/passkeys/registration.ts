import { randomUUID } from 'node:crypto';
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { base64url } from '../../core/bytes.ts';
import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import type { Account, Passkey, RequestContext, Session } from '../../core/model.ts';
import { assess } from '../../core/assurance/level.ts';
import { passkeyAllowed } from '../../core/policy.ts';
import { hashSecret } from '../../core/tokens.ts';
import { authenticatorName } from '../../webauthn/aaguids.ts';
import { decodeClientData } from '../../webauthn/clientData.ts';
import { REGISTRATION_ALGORITHMS, verifyRegistration } from '../../webauthn/registration.ts';
import { metadataLookup } from '../attestationMetadata.ts';
import type { Deps } from '../deps.ts';
import { passkeyChanged } from '../../ssf/events.ts';
import { announceDeviceAdded, auditDeviceLinkRedeemed } from '../devices/link.ts';
import { aboveLinkLevel, deviceLinkFailure, deviceLinkVouched } from '../devices/linkChecks.ts';
import { checkEnrolmentToken } from '../invitations.ts';
import { completeSignIn, type SignedIn } from '../signIn.ts';
import { requireFresh } from '../freshness.ts';
import { finishRecoveryBinding } from '../recovery/bind.ts';
import { finishMigrationBinding } from '../migration/bind.ts';
import { announceRetired, retireOnPasskey, type Retired } from '../migration/retire.ts';
import { announceRecoveryCompleted, redeemRecoveryLink } from '../recovery/assisted.ts';

/** Who a registration is for: a holder of an enrolment link, or a signed-in account holder. */
export type Registrant = { readonly enrolmentToken: string } | { readonly session: Session; readonly account: Account };

/** Starts a registration (WebAuthn §5.4): stores the pending ceremony and returns the options. */
export async function beginRegistration(deps: Deps, who: Registrant): Promise<Result<PublicKeyCredentialCreationOptionsJSON>> {
  let account: Account;
  let invitationId: string | null = null;
  if ('enrolmentToken' in who) {
    const checked = await checkEnrolmentToken(deps, who.enrolmentToken);
    if (!checked.ok) return checked;
    account = checked.value.account;
    invitationId = checked.value.invitation.id;
  } else {
    // A recovery session's one purpose is this (README "Recovery"); any other needs to be fresh.
    if (who.session.purpose === 'sign_in') {
      const fresh = await requireFresh(deps, who);
      if (!fresh.ok) return fresh;
    }
    account = who.account;
  }
  const now = deps.clock();
  const challenge = base64url.encode(deps.random(32));
  await deps.store.ceremonies.create({
    challengeHash: hashSecret(challenge),
    kind: 'registration',
    accountId: account.id,
    invitationId,
    createdAt: now,
    expiresAt: now + deps.config.challengeTtlMs,
  });
  const existing = await deps.store.passkeys.listByAccount(account.id);
  return ok({
    challenge,
    rp: { name: deps.config.rpName, id: deps.config.rpId },
    user: { id: account.userHandle, name: account.username, displayName: account.displayName },
    pubKeyCredParams: REGISTRATION_ALGORITHMS.map((alg) => ({ type: 'public-key' as const, alg })),
    timeout: deps.config.challengeTtlMs,
    excludeCredentials: existing.map((p) => ({ id: p.credentialId, type: 'public-key' as const, transports: p.transports as AuthenticatorTransport[] })),
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    attestation: deps.config.attestation,
    extensions: { credProps: true },
  } as PublicKeyCredentialCreationOptionsJSON);
}

export interface Registered {
  readonly passkey: Passkey;
  /** Set when the registration enrolled the account: the first sign-in. */
  readonly signedIn: SignedIn | null;
}

/**
 * Finishes a registration: consumes the ceremony, verifies the response, applies role and
 * attestation policy, then stores the passkey. An enrolment also consumes the invitation,
 * activates the account and signs it in, all in one transaction.
 */
export async function finishRegistration(
  deps: Deps,
  input: { response: RegistrationResponseJSON; nickname?: string | undefined; context: RequestContext; session?: Session | null },
): Promise<Result<Registered>> {
  const refuse = async (failure: Failure, accountId: string | null = null): Promise<Failure> => {
    deps.metrics.enrolments.inc({ result: failure.code });
    await deps.store.audit.append({
      type: 'passkey.registered',
      outcome: 'failure',
      reason: failure.code,
      accountId,
      context: input.context,
      at: deps.clock(),
    });
    return failure;
  };
  const challenge = challengeOf(input.response);
  if (challenge === null) return refuse(fail('passkey_malformed'));
  const ceremony = await deps.store.ceremonies.consume(hashSecret(challenge));
  if (!ceremony || ceremony.kind !== 'registration' || ceremony.accountId === null) return refuse(fail('passkey_challenge_unknown'));
  const now = deps.clock();
  if (ceremony.expiresAt <= now) return refuse(fail('passkey_challenge_expired'), ceremony.accountId);
  // A recovery or a migration session (README "Importing accounts"): each binds a passkey that then signs in.
  const recovering = ceremony.invitationId === null && input.session && input.session.purpose !== 'sign_in' ? input.session : null;
  if (ceremony.invitationId === null && !recovering) {
    if (input.session?.accountId !== ceremony.accountId) return refuse(fail('session_required'), ceremony.accountId);
    // Adding a passkey: the session was fresh when the ceremony began, and its passkey is still usable.
    const fresh = await requireFresh(deps, { session: input.session }, { asOf: ceremony.createdAt });
    if (!fresh.ok) return refuse(fresh, ceremony.accountId);
  }
  if (recovering && recovering.accountId !== ceremony.accountId) return refuse(fail('session_required'), ceremony.accountId);
  const account = await deps.store.accounts.findById(ceremony.accountId);
  if (!account || account.status === 'suspended' || account.status === 'offboarded') return refuse(fail('account_not_active'), ceremony.accountId);
  // A device link (services/devices/link.ts) carries its issuing session's level cap and passkey.
  const invitation = ceremony.invitationId === null ? undefined : await deps.store.invitations.find(ceremony.invitationId);

  const verified = await verifyRegistration(input.response, {
    challenge,
    origins: deps.config.origins,
    rpIds: [deps.config.rpId],
    requireUserVerification: true,
    allowedTopOrigins: deps.config.allowedTopOrigins,
    algorithms: REGISTRATION_ALGORITHMS,
    trust: { aaguids: deps.config.attestationAaguids, anchors: deps.config.attestationTrustAnchors },
    requireTrustedAttestation: deps.config.attestation === 'direct',
    now,
    metadata: metadataLookup(deps),
  });
  if (!verified.ok) return refuse(verified, account.id);
  const credential = verified.value;
  const policyProblem = passkeyAllowed(deps.policies[account.role], credential);
  if (policyProblem) return refuse(fail(policyProblem), account.id);
  const evidence = { kind: 'passkey' as const, userPresent: true, userVerified: credential.userVerified, backupEligible: credential.backupEligible, attestationTrusted: credential.attestationTrusted };
  // NIST SP 800-63B-4 §4.1.2 (binding an additional authenticator): the subscriber first
  // authenticates "at the AAL (or a higher AAL) at which the new authenticator will be used";
  // otherwise a weaker sign-in could mint a stronger key (DESIGN: "Nothing binds an authenticator above the level of the session that
  // binds it"). An enrolment link is the administrator's path and is not limited by this.
  // Recovery is the other exception, and deliberately so: it is the governed path that restores a
  // passkey (NIST SP 800-63B-4 §4.2: recovery binds a new authenticator after the role's recovery
  // proofs), its session is AAL1 by construction, and the passkey it binds is what then signs in,
  // at the level that passkey proves, while every other session of the account ends.
  if (ceremony.invitationId === null && !recovering && input.session && assess([evidence]).aal > input.session.aal) return refuse(fail('passkey_above_session_level'), account.id);
  // A device link is the holder's own path, so it is limited the same way: by the session that made it.
  if (aboveLinkLevel(invitation, assess([evidence]).aal)) return refuse(fail('passkey_above_session_level'), account.id);

  const passkey: Passkey = {
    id: randomUUID(),
    accountId: account.id,
    credentialId: base64url.encode(credential.credentialId),
    publicKey: base64url.encode(credential.publicKey),
    alg: credential.alg,
    signCount: credential.signCount,
    transports: credential.transports,
    aaguid: credential.aaguid,
    backupEligible: credential.backupEligible,
    backupState: credential.backupState,
    userVerified: credential.userVerified,
    attestationFormat: credential.attestationFormat,
    attestationTrusted: credential.attestationTrusted,
    nickname: input.nickname?.trim() || authenticatorName(credential.aaguid) || 'Passkey',
    status: 'active',
    flaggedReason: null,
    createdAt: now,
    // An enrolment, a device link and a recovery sign in with the new passkey at once: that is its
    // first use. A passkey added from a session has not signed in yet.
    lastUsedAt: ceremony.invitationId !== null || recovering ? now : null,
  };
  const auditDetails = {
    passkey: passkey.id,
    aaguid: passkey.aaguid,
    backupEligible: passkey.backupEligible,
    attestationFormat: passkey.attestationFormat,
    attestationTrusted: passkey.attestationTrusted,
    trustReason: credential.trustReason,
  };
  let retired: Retired = { factors: [], passwordRemoved: false };
  const store = async (tx: Deps['store']): Promise<Failure | null> => {
    await tx.accounts.lock(account.id);
    if (ceremony.invitationId !== null) {
      if (!(await tx.invitations.consume(ceremony.invitationId, now))) {
        const invitation = await tx.invitations.find(ceremony.invitationId);
        const code = invitation?.usedAt != null ? 'enrolment_token_used' : 'enrolment_token_expired';
        return invitation?.kind === 'device' ? deviceLinkFailure(code) : fail(code);
      }
      // Under the account lock, so a passkey reported lost meanwhile is seen (services/devices/lost.ts).
      const unvouched = invitation && (await deviceLinkVouched(tx, invitation));
      if (unvouched) return unvouched;
      // An assisted recovery's link (services/recovery/assisted.ts): audited, and with revokeExisting
      // the account's other passkeys and sessions end here, before the new passkey is stored.
      if (invitation?.kind === 'recovery') await redeemRecoveryLink(deps, tx, invitation, input.context, now);
    }
    if (!(await tx.passkeys.insert(passkey))) return fail('passkey_already_registered');
    await passkeyChanged(deps, tx, { accountId: account.id, passkey, change: 'create', by: 'user', at: now });
    if (invitation?.kind === 'device') await auditDeviceLinkRedeemed(tx, invitation, passkey, input.context, now);
    await tx.audit.append({ type: 'passkey.registered', outcome: 'success', accountId: account.id, context: input.context, at: now, details: auditDetails });
    // Downgrade prevention (README "Importing accounts"): the old password and the role's retired
    // code factors end in the transaction that binds the passkey.
    retired = await retireOnPasskey(deps, tx, { account, passkeyId: passkey.id, context: input.context, at: now });
    if (account.status === 'invited') {
      await tx.accounts.setStatus(account.id, 'active', now);
      await tx.audit.append({ type: 'account.enrolled', outcome: 'success', accountId: account.id, context: input.context, at: now, details: { passkey: passkey.id } });
    }
    return null;
  };

  const bind = async (): Promise<Result<Registered>> => {
    if (recovering?.purpose === 'migration') return finishMigrationBinding(deps, { account, passkey, evidence, migrating: recovering, context: input.context, store, refuse });
    if (recovering) return finishRecoveryBinding(deps, { account, passkey, evidence, recovering, context: input.context, store, refuse });
    if (ceremony.invitationId === null) {
      // Adding a passkey to a signed-in account: no new session.
      const refused = await deps.store.transaction(store);
      if (refused) return refuse(refused, account.id);
      deps.metrics.enrolments.inc({ result: 'success' });
      return ok({ passkey, signedIn: null });
    }
    const signedIn = await completeSignIn(deps, {
      account,
      method: 'enrolment',
      factors: [evidence],
      passkeyId: passkey.id,
      context: input.context,
      presentedSessionId: input.session?.id ?? null,
      commit: store,
    });
    if (!signedIn.ok) return refuse(signedIn, account.id);
    deps.metrics.enrolments.inc({ result: 'success' });
    if (invitation?.kind === 'device') await announceDeviceAdded(deps, account, passkey, input.context);
    if (invitation?.kind === 'recovery') await announceRecoveryCompleted(deps, account, invitation, input.context);
    return ok({ passkey, signedIn: signedIn.value });
  };
  const result = await bind();
  if (result.ok) await announceRetired(deps, account, retired, input.context);
  return result;
}

/** The challenge a registration response answers, read from its client data; `null` if unreadable. */
function challengeOf(response: RegistrationResponseJSON): string | null {
  const bytes = base64url.decode(response.response.clientDataJSON);
  const clientData = bytes && decodeClientData(bytes);
  return clientData ? clientData.challenge : null;
}
