import { createHash, hash as oneShotHash } from 'node:crypto';
import { base64url, concatBytes, equalBytes } from '../core/bytes.ts';
import { fail, ok, type Result } from '../core/errors.ts';
import { parseAuthenticatorData, AuthenticatorDataError, type AuthenticatorData } from './authenticatorData.ts';
import { checkClientData, decodeClientData, originMismatchMessage, type ClientData } from './clientData.ts';
import { verifyWithKey, type PublicKey } from './cose.ts';

/** The fields of an AuthenticationResponseJSON this verifier reads, already shape-checked. */
export interface AssertionResponse {
  readonly id: string;
  readonly rawId: string;
  readonly type: string;
  readonly response: {
    readonly clientDataJSON: string;
    readonly authenticatorData: string;
    readonly signature: string;
    readonly userHandle?: string | undefined;
  };
}

export interface StoredCredential {
  readonly publicKey: PublicKey;
  readonly signCount: number;
  /** BE flag recorded at registration; `undefined` when unknown (imported credentials). */
  readonly backupEligible?: boolean | undefined;
}

export interface AssertionExpectations {
  readonly challenge: string;
  readonly origins: readonly string[];
  readonly rpIds: readonly string[];
  readonly requireUserVerification: boolean;
  readonly allowedTopOrigins: readonly string[];
}

export interface VerifiedAssertion {
  readonly authenticatorData: AuthenticatorData;
  readonly newSignCount: number;
  readonly userHandle: Uint8Array | null;
}

/** Decoded response parts, for callers that must look at the challenge before verifying. */
export interface DecodedAssertion {
  readonly credentialId: Uint8Array;
  readonly clientDataJSON: Uint8Array;
  readonly clientData: ClientData;
  readonly authenticatorData: Uint8Array;
  readonly signature: Uint8Array;
  readonly userHandle: Uint8Array | null;
}

/** Decodes the base64url fields and the client data; fails with `passkey_malformed` on any defect. */
export function decodeAssertion(response: AssertionResponse): Result<DecodedAssertion> {
  if (response.type !== 'public-key' || response.id !== response.rawId) return fail('passkey_malformed');
  const credentialId = base64url.decode(response.rawId);
  const clientDataJSON = base64url.decode(response.response.clientDataJSON);
  const authenticatorData = base64url.decode(response.response.authenticatorData);
  const signature = base64url.decode(response.response.signature);
  const userHandleText = response.response.userHandle;
  const userHandle = userHandleText ? base64url.decode(userHandleText) : null;
  if (!credentialId || credentialId.byteLength === 0 || !clientDataJSON || !authenticatorData || !signature || (userHandleText && !userHandle)) {
    return fail('passkey_malformed');
  }
  const clientData = decodeClientData(clientDataJSON);
  if (!clientData) return fail('passkey_malformed');
  return ok({ credentialId, clientDataJSON, clientData, authenticatorData, signature, userHandle });
}

const rpIdHashes = new Map<string, Uint8Array>();
function rpIdHash(rpId: string): Uint8Array {
  let hash = rpIdHashes.get(rpId);
  if (!hash) {
    hash = createHash('sha256').update(rpId).digest();
    if (rpIdHashes.size < 64) rpIdHashes.set(rpId, hash);
  }
  return hash;
}

/**
 * Verifies an assertion against a stored credential (WebAuthn L3 §7.2 steps 11-21). Pure: no I/O,
 * no clock. Refusals are stable error codes; the first failing check decides.
 */
export function verifyAssertion(
  decoded: DecodedAssertion,
  credential: StoredCredential,
  expected: AssertionExpectations,
): Result<VerifiedAssertion> {
  const { clientData } = decoded;
  const clientDataProblem = checkClientData(clientData, { type: 'webauthn.get', origins: expected.origins, allowedTopOrigins: expected.allowedTopOrigins });
  if (clientDataProblem) return fail(clientDataProblem, clientDataProblem === 'passkey_origin_mismatch' ? { message: originMismatchMessage(clientData.origin, expected.origins) } : {});
  if (clientData.challenge !== expected.challenge) return fail('passkey_challenge_mismatch');
  let authData: AuthenticatorData;
  try {
    authData = parseAuthenticatorData(decoded.authenticatorData);
  } catch (error) {
    if (error instanceof AuthenticatorDataError) return fail('passkey_malformed');
    throw error;
  }
  // Step 15: the RP ID hash must be that of an RP ID we serve.
  if (!expected.rpIds.some((id) => equalBytes(rpIdHash(id), authData.rpIdHash))) return fail('passkey_rp_id_mismatch');
  // Steps 16-17: user present; user verified when policy requires it.
  if (!authData.flags.up) return fail('passkey_user_not_present');
  if (expected.requireUserVerification && !authData.flags.uv) return fail('passkey_user_not_verified');
  // Step 20: signature over authenticatorData || SHA-256(clientDataJSON).
  const clientDataHash = oneShotHash('sha256', decoded.clientDataJSON, 'buffer');
  const signed = concatBytes(decoded.authenticatorData, clientDataHash);
  if (!verifyWithKey(credential.publicKey, signed, decoded.signature)) return fail('passkey_signature_invalid');
  // Step 18: BE is fixed for the life of a credential; a change means a different authenticator.
  if (credential.backupEligible !== undefined && credential.backupEligible !== authData.flags.be) {
    return fail('passkey_backup_eligibility_changed');
  }
  // Step 21: a counter that does not grow (unless both are zero) signals a possible clone.
  const newCount = authData.signCount;
  if ((newCount !== 0 || credential.signCount !== 0) && newCount <= credential.signCount) {
    return fail('passkey_sign_count_regressed');
  }
  return ok({ authenticatorData: authData, newSignCount: newCount, userHandle: decoded.userHandle });
}
