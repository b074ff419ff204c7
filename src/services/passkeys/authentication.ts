import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { base64url } from '../../core/bytes.ts';
import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import type { RequestContext } from '../../core/model.ts';
import { hashSecret } from '../../core/tokens.ts';
import { decodeAssertion, verifyAssertion } from '../../webauthn/assertion.ts';
import { CoseKeyError, type PublicKey } from '../../webauthn/cose.ts';
import type { Deps } from '../deps.ts';
import { passkeyCredentialType, queueSecurityEvent, SSF_EVENTS } from '../../ssf/events.ts';
import { endPasskeyGrants } from '../grants.ts';
import { completeSignIn, recordSignInFailure, type SignedIn } from '../signIn.ts';
import { standInCredentials } from './standIn.ts';

/**
 * Starts a sign-in (WebAuthn §5.5). Without a username the browser offers every discoverable
 * passkey for this site (and passkey autofill); with one, the account's passkeys are listed. A
 * username without passkeys (unknown, or not enrolled yet) gets a stand-in list (standIn.ts): the
 * same every time, shaped like real lists, and found with the same store reads, so neither the
 * answer nor the work behind it tells which usernames exist.
 */
export async function beginAuthentication(deps: Deps, input: { username?: string | undefined }): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const now = deps.clock();
  const challenge = base64url.encode(deps.random(32));
  let accountId: string | null = null;
  let allowCredentials: PublicKeyCredentialRequestOptionsJSON['allowCredentials'];
  if (input.username !== undefined) {
    const username = input.username.trim().toLowerCase();
    const account = await deps.store.accounts.findByUsername(username);
    // An unknown username reads the passkeys of an account id that cannot exist (ids are never
    // empty), so both answers cost the same two reads.
    const passkeys = (await deps.store.passkeys.listByAccount(account?.id ?? '')).filter((p) => p.status === 'active');
    if (account && passkeys.length > 0) {
      accountId = account.id;
      allowCredentials = passkeys.map((p) => ({ id: p.credentialId, type: 'public-key', transports: p.transports as AuthenticatorTransport[] }));
    } else {
      allowCredentials = standInCredentials(deps.installSecret, username);
    }
  }
  await deps.store.ceremonies.create({
    challengeHash: hashSecret(challenge),
    kind: 'authentication',
    accountId,
    invitationId: null,
    createdAt: now,
    expiresAt: now + deps.config.challengeTtlMs,
  });
  return {
    challenge,
    rpId: deps.config.rpId,
    timeout: deps.config.challengeTtlMs,
    userVerification: 'required',
    ...(allowCredentials ? { allowCredentials } : {}),
  };
}

/**
 * Finishes a sign-in: consumes the ceremony (once, whatever the outcome), finds the passkey,
 * verifies the assertion, and hands the evidence to `completeSignIn`, which applies role policy and
 * moves the sign counter in the same transaction as the new session.
 */
export async function finishAuthentication(
  deps: Deps,
  input: { response: AuthenticationResponseJSON; context: RequestContext; presentedSessionId?: string | null },
): Promise<Result<SignedIn>> {
  const { context } = input;
  const refuse = (failure: Failure, accountId: string | null = null, details?: Record<string, unknown>) =>
    recordSignInFailure(deps, failure, { method: 'passkey', accountId, context, ...(details ? { details } : {}) });

  const decoded = decodeAssertion(input.response);
  if (!decoded.ok) return refuse(decoded);
  const ceremony = await deps.store.ceremonies.consume(hashSecret(decoded.value.clientData.challenge));
  if (!ceremony || ceremony.kind !== 'authentication') return refuse(fail('passkey_challenge_unknown'));
  const now = deps.clock();
  if (ceremony.expiresAt <= now) return refuse(fail('passkey_challenge_expired'), ceremony.accountId);

  const credentialId = base64url.encode(decoded.value.credentialId);
  // A passkey always has its account (a foreign key): both are read in one statement.
  const found = await deps.store.passkeys.findWithOwner(credentialId);
  if (!found || (ceremony.accountId !== null && found.passkey.accountId !== ceremony.accountId)) {
    return refuse(fail('passkey_unknown_credential'), ceremony.accountId);
  }
  const { passkey, account } = found;
  // §7.2 step 6: a returned user handle must be the credential's owner.
  if (decoded.value.userHandle && base64url.encode(decoded.value.userHandle) !== account.userHandle) {
    return refuse(fail('passkey_user_handle_mismatch'), account.id, { passkey: passkey.id });
  }
  if (passkey.status !== 'active') return refuse(fail('passkey_flagged'), account.id, { passkey: passkey.id });

  let publicKey: PublicKey;
  try {
    publicKey = deps.keys.get(passkey.publicKey);
  } catch (error) {
    if (error instanceof CoseKeyError) return refuse(fail('passkey_unsupported_algorithm'), account.id, { passkey: passkey.id });
    throw error;
  }
  const verified = verifyAssertion(
    decoded.value,
    { publicKey, signCount: passkey.signCount, backupEligible: passkey.backupEligible },
    {
      challenge: decoded.value.clientData.challenge,
      origins: deps.config.origins,
      rpIds: [deps.config.rpId],
      requireUserVerification: true,
      allowedTopOrigins: deps.config.allowedTopOrigins,
    },
  );
  if (!verified.ok) {
    if (verified.code === 'passkey_sign_count_regressed') {
      // WebAuthn §6.1.1: a counter that does not grow suggests a cloned authenticator. Disable it,
      // and end what it signed in: the clone may be the one holding those sessions and grants.
      await deps.store.transaction(async (tx) => {
        await tx.passkeys.flag(passkey.id, 'sign_count_regressed');
        // RISC 1.0 §2.7: applications that trust this passkey's sign-ins are told it may be cloned.
        await queueSecurityEvent(deps, tx, {
          accountId: account.id,
          type: SSF_EVENTS.credentialCompromise,
          event: { credential_type: passkeyCredentialType(passkey), reason_admin: { en: 'The passkey signature counter went backwards (WebAuthn §6.1.1): a sign of a cloned authenticator. The passkey is disabled.' } },
          at: now,
        });
        const revokedSessions = await tx.sessions.revokeByPasskey(account.id, passkey.id, now, '');
        const endedGrants = await endPasskeyGrants(tx, passkey.id);
        await tx.audit.append({ type: 'passkey.flagged', outcome: 'success', reason: 'sign_count_regressed', accountId: account.id, context, at: now, details: { passkey: passkey.id, revokedSessions, endedGrants } });
      });
      deps.log.warn({ event: 'passkey.flagged', account: account.id, passkey: passkey.id, reason: 'sign_count_regressed', ip: context.ip }, 'security event: a passkey was disabled (its signature counter went backwards, a sign of a cloned authenticator)');
    }
    return refuse(verified, account.id, { passkey: passkey.id });
  }

  const flags = verified.value.authenticatorData.flags;
  return completeSignIn(deps, {
    account,
    method: 'passkey',
    factors: [{ kind: 'passkey', userPresent: flags.up, userVerified: flags.uv, backupEligible: flags.be, attestationTrusted: passkey.attestationTrusted }],
    passkeyId: passkey.id,
    context,
    presentedSessionId: input.presentedSessionId ?? null,
    commit: async (tx) => {
      const recorded = await tx.passkeys.recordUse(passkey.id, {
        expectedSignCount: passkey.signCount,
        signCount: verified.value.newSignCount,
        backupState: flags.bs,
        now,
      });
      // Another sign-in moved the counter (or flagged the passkey) since we read it.
      return recorded ? null : fail('passkey_sign_count_regressed');
    },
  });
}
