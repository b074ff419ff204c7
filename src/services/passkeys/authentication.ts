import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { base64url } from '../../core/bytes.ts';
import { fail, type Failure, type Result } from '../../core/errors.ts';
import type { RequestContext } from '../../core/model.ts';
import { hashSecret } from '../../core/tokens.ts';
import { decodeAssertion, verifyAssertion } from '../../webauthn/assertion.ts';
import { CoseKeyError, type PublicKey } from '../../webauthn/cose.ts';
import type { Deps } from '../deps.ts';
import { passkeyCredentialType, queueSecurityEvent, SSF_EVENTS } from '../../ssf/events.ts';
import { endPasskeyGrants } from '../grants.ts';
import type { Store } from '../../store/index.ts';
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
 * Finishes a sign-in: finds the ceremony, finds the passkey, verifies the assertion, and hands the
 * evidence to `completeSignIn`, which applies role policy, moves the sign counter and consumes the
 * ceremony in the same transaction as the new session.
 *
 * The ceremony is read first and consumed where it is acted on, not in a statement of its own: a
 * sign-in commits once instead of twice. One-time still means once (DESIGN.md principle 4):
 * whichever attempt consumes the challenge is the only one that acts on it. A session is issued only
 * in the transaction that deleted the ceremony; a refusal consumes it before it is answered (so a
 * refused answer is never checked again), and a signature counter that went backwards disables the
 * passkey only in a transaction that consumed it (so a replay racing the real sign-in, which sees
 * the counter it just moved, cannot disable a passkey). An attempt that finds the challenge taken
 * answers `passkey_challenge_unknown`, whatever it found before.
 */
export async function finishAuthentication(
  deps: Deps,
  input: { response: AuthenticationResponseJSON; context: RequestContext; presentedSessionId?: string | null },
): Promise<Result<SignedIn>> {
  const { context } = input;
  const decoded = decodeAssertion(input.response);
  if (!decoded.ok) return refuse(deps, context, decoded);
  const challengeHash = hashSecret(decoded.value.clientData.challenge);
  const ceremony = await deps.store.ceremonies.find(challengeHash);
  if (!ceremony || ceremony.kind !== 'authentication') return refuse(deps, context, fail('passkey_challenge_unknown'));
  const attempt: Attempt = { deps, context, challengeHash };
  const now = deps.clock();
  if (ceremony.expiresAt <= now) return refuseOnce(attempt, fail('passkey_challenge_expired'), ceremony.accountId);

  const credentialId = base64url.encode(decoded.value.credentialId);
  // A passkey always has its account (a foreign key): both are read in one statement.
  const found = await deps.store.passkeys.findWithOwner(credentialId);
  if (!found || (ceremony.accountId !== null && found.passkey.accountId !== ceremony.accountId)) {
    return refuseOnce(attempt, fail('passkey_unknown_credential'), ceremony.accountId);
  }
  const { passkey, account } = found;
  // §7.2 step 6: a returned user handle must be the credential's owner.
  if (decoded.value.userHandle && base64url.encode(decoded.value.userHandle) !== account.userHandle) {
    return refuseOnce(attempt, fail('passkey_user_handle_mismatch'), account.id, { passkey: passkey.id });
  }
  if (passkey.status !== 'active') return refuseOnce(attempt, fail('passkey_flagged'), account.id, { passkey: passkey.id });

  let publicKey: PublicKey;
  try {
    publicKey = deps.keys.get(passkey.publicKey);
  } catch (error) {
    if (error instanceof CoseKeyError) return refuseOnce(attempt, fail('passkey_unsupported_algorithm'), account.id, { passkey: passkey.id });
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
    if (verified.code !== 'passkey_sign_count_regressed') return refuseOnce(attempt, verified, account.id, { passkey: passkey.id });
    // WebAuthn §6.1.1: a counter that does not grow suggests a cloned authenticator. Disable it,
    // and end what it signed in: the clone may be the one holding those sessions and grants.
    const flagged = await deps.store.transaction(async (tx) => {
      if (!(await tx.ceremonies.consume(challengeHash))) return false;
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
      return true;
    });
    if (!flagged) return refuse(deps, context, fail('passkey_challenge_unknown'), account.id, { passkey: passkey.id });
    deps.log.warn({ event: 'passkey.flagged', account: account.id, passkey: passkey.id, reason: 'sign_count_regressed', ip: context.ip }, 'security event: a passkey was disabled (its signature counter went backwards, a sign of a cloned authenticator)');
    return refuse(deps, context, verified, account.id, { passkey: passkey.id });
  }

  const flags = verified.value.authenticatorData.flags;
  const signedIn = await completeSignIn(deps, {
    account,
    method: 'passkey',
    factors: [{ kind: 'passkey', userPresent: flags.up, userVerified: flags.uv, backupEligible: flags.be, attestationTrusted: passkey.attestationTrusted }],
    passkeyId: passkey.id,
    context,
    presentedSessionId: input.presentedSessionId ?? null,
    commit: consumeAndRecordUse(challengeHash, passkey.id, { expectedSignCount: passkey.signCount, signCount: verified.value.newSignCount, backupState: flags.bs, now }),
  });
  // Refused before its transaction (account state, role policy, risk) or rolled back in it: the
  // refusal has been recorded; the ceremony goes now, so the same answer is not judged again.
  if (!signedIn.ok) await deps.store.ceremonies.consume(challengeHash);
  return signedIn;
}

interface Attempt {
  readonly deps: Deps;
  readonly context: RequestContext;
  readonly challengeHash: string;
}

function refuse(deps: Deps, context: RequestContext, failure: Failure, accountId: string | null = null, details?: Record<string, unknown>): Promise<Failure> {
  return recordSignInFailure(deps, failure, { method: 'passkey', accountId, context, ...(details ? { details } : {}) });
}

/** Consumes the ceremony, then refuses; an attempt that finds it already taken was not the one that could act on it. */
async function refuseOnce(attempt: Attempt, failure: Failure, accountId: string | null, details?: Record<string, unknown>): Promise<Failure> {
  const consumed = await attempt.deps.store.ceremonies.consume(attempt.challengeHash);
  return refuse(attempt.deps, attempt.context, consumed ? failure : fail('passkey_challenge_unknown'), accountId, details);
}

/**
 * The sign-in's own writes, in `completeSignIn`'s transaction: take the ceremony (or roll back,
 * when another attempt took it), then move the signature counter.
 */
function consumeAndRecordUse(challengeHash: string, passkeyId: string, use: { expectedSignCount: number; signCount: number; backupState: boolean; now: number }): (tx: Store) => Promise<Failure | null> {
  return async (tx) => {
    if (!(await tx.ceremonies.consume(challengeHash))) return fail('passkey_challenge_unknown');
    // Another sign-in moved the counter (or flagged the passkey) since we read it.
    return (await tx.passkeys.recordUse(passkeyId, use)) ? null : fail('passkey_sign_count_regressed');
  };
}
