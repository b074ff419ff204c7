import { createHash } from 'node:crypto';
import { verifyRegistrationResponse, SettingsService, type RegistrationResponseJSON } from '@simplewebauthn/server';
import { base64url, equalBytes } from '../core/bytes.ts';
import { fail, ok, type Result } from '../core/errors.ts';
import { AuthenticatorDataError, formatAaguid, parseAuthenticatorData, type AuthenticatorData } from './authenticatorData.ts';
import { decodeCbor, type CborMap } from './cbor.ts';
import { checkClientData, decodeClientData, originMismatchMessage } from './clientData.ts';
import { CoseKeyError, importCoseMap } from './cose.ts';
import { decideTrust, type AuthenticatorMetadata, type TrustPolicy } from './trust.ts';

/** Algorithms offered at registration (README: "Passkeys"). */
export const REGISTRATION_ALGORITHMS = [-7, -8, -257] as const;

const FORMATS = new Set(['none', 'packed', 'fido-u2f', 'android-key', 'android-safetynet', 'tpm', 'apple']);
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

export interface RegistrationExpectations {
  readonly challenge: string;
  readonly origins: readonly string[];
  readonly rpIds: readonly string[];
  readonly requireUserVerification: boolean;
  readonly allowedTopOrigins: readonly string[];
  readonly algorithms: readonly number[];
  readonly trust: TrustPolicy;
  /** `true` refuses an authenticator whose attestation policy does not trust. */
  readonly requireTrustedAttestation: boolean;
  /** Time at which certificates are judged (ms since the epoch). */
  readonly now: number;
  /** Imported FIDO metadata for an AAGUID, if any (README "Attestation as policy"). */
  readonly metadata?: (aaguid: string) => Promise<AuthenticatorMetadata | undefined>;
}

export interface RegisteredCredential {
  readonly credentialId: Uint8Array;
  /** COSE_Key bytes as the authenticator sent them. */
  readonly publicKey: Uint8Array;
  readonly alg: number;
  readonly signCount: number;
  readonly aaguid: string;
  readonly userVerified: boolean;
  readonly backupEligible: boolean;
  readonly backupState: boolean;
  readonly attestationFormat: string;
  readonly attestationTrusted: boolean;
  readonly trustReason: string;
  readonly transports: readonly string[];
}

let libraryConfigured = false;
/**
 * SimpleWebAuthn verifies attestation statements; anchoring is Keybound's policy (trust.ts). Its
 * built-in roots would refuse every chain that ends elsewhere, so they are cleared once.
 */
function configureAttestationLibrary(): void {
  if (libraryConfigured) return;
  for (const identifier of ['android-key', 'android-safetynet', 'apple', 'packed', 'tpm', 'fido-u2f', 'mds'] as const) {
    SettingsService.setRootCertificates({ identifier, certificates: [] });
  }
  libraryConfigured = true;
}

/**
 * Verifies a registration response (WebAuthn L3 §7.1). Keybound checks client data, RP ID hash,
 * flags, credential id and key itself, so each refusal has its own code; the attestation statement
 * of each format is checked by SimpleWebAuthn; trust is decided by policy.
 */
export async function verifyRegistration(response: RegistrationResponseJSON, expected: RegistrationExpectations): Promise<Result<RegisteredCredential>> {
  if (response.type !== 'public-key' || response.id !== response.rawId) return fail('passkey_malformed');
  const rawId = base64url.decode(response.rawId);
  const clientDataJSON = base64url.decode(response.response.clientDataJSON);
  const attestationObject = base64url.decode(response.response.attestationObject);
  if (!rawId || !clientDataJSON || !attestationObject) return fail('passkey_malformed');
  const clientData = decodeClientData(clientDataJSON);
  if (!clientData) return fail('passkey_malformed');
  const problem = checkClientData(clientData, { type: 'webauthn.create', origins: expected.origins, allowedTopOrigins: expected.allowedTopOrigins });
  if (problem) return fail(problem, problem === 'passkey_origin_mismatch' ? { message: originMismatchMessage(clientData.origin, expected.origins) } : {});
  if (clientData.challenge !== expected.challenge) return fail('passkey_challenge_mismatch');

  let statement: { fmt: string; attStmt: CborMap; authData: AuthenticatorData };
  try {
    const decoded = decodeCbor(attestationObject);
    if (!(decoded instanceof Map)) return fail('passkey_malformed');
    const fmt = decoded.get('fmt');
    const attStmt = decoded.get('attStmt');
    const authDataBytes = decoded.get('authData');
    if (typeof fmt !== 'string' || !(attStmt instanceof Map) || !(authDataBytes instanceof Uint8Array)) return fail('passkey_malformed');
    statement = { fmt, attStmt, authData: parseAuthenticatorData(authDataBytes) };
  } catch (error) {
    if (error instanceof Error && (error.name === 'CborError' || error instanceof AuthenticatorDataError)) return fail('passkey_malformed');
    throw error;
  }
  const { authData, fmt, attStmt } = statement;
  const credential = authData.attestedCredential;
  if (!credential) return fail('passkey_malformed');
  if (!expected.rpIds.some((id) => equalBytes(createHash('sha256').update(id).digest(), authData.rpIdHash))) return fail('passkey_rp_id_mismatch');
  if (!authData.flags.up) return fail('passkey_user_not_present');
  if (expected.requireUserVerification && !authData.flags.uv) return fail('passkey_user_not_verified');
  if (!equalBytes(credential.credentialId, rawId)) return fail('passkey_malformed');
  let alg: number;
  try {
    alg = importCoseMap(credential.publicKeyMap).alg;
  } catch (error) {
    if (error instanceof CoseKeyError) return fail(error.reason === 'unsupported_algorithm' ? 'passkey_unsupported_algorithm' : 'passkey_malformed');
    throw error;
  }
  if (!expected.algorithms.includes(alg)) return fail('passkey_unsupported_algorithm');
  if (!FORMATS.has(fmt)) return fail('passkey_attestation_unsupported_format');

  const aaguid = formatAaguid(credential.aaguid);
  let x5c: Uint8Array[] = [];
  if (fmt === 'none') {
    // §8.7: the `none` statement is an empty map; anything in it is a malformed response.
    if (attStmt.size !== 0) return fail('passkey_attestation_invalid');
  } else {
    configureAttestationLibrary();
    try {
      const result = await verifyRegistrationResponse({
        response,
        expectedChallenge: expected.challenge,
        expectedOrigin: clientData.origin,
        expectedRPID: [...expected.rpIds],
        requireUserVerification: expected.requireUserVerification,
        supportedAlgorithmIDs: [...expected.algorithms],
      });
      if (!result.verified) return fail('passkey_attestation_invalid');
    } catch {
      return fail('passkey_attestation_invalid');
    }
    x5c = attestationChain(fmt, attStmt);
    // §8.2 packed, self attestation: "Validate that alg matches the algorithm of the
    // credentialPublicKey in authenticatorData." SimpleWebAuthn 14 verifies `sig` with the
    // credential key under any `alg`, so Keybound checks it.
    if (fmt === 'packed' && !attStmt.has('x5c') && attStmt.get('alg') !== alg) return fail('passkey_attestation_invalid');
  }
  const metadata = expected.metadata ? await expected.metadata(aaguid) : undefined;
  const trust = decideTrust({ x5c, aaguid, policy: expected.trust, metadata, now: expected.now });
  if (trust.reason === 'authenticator_compromised') return fail('passkey_authenticator_compromised');
  if (expected.requireTrustedAttestation && !trust.trusted) return fail('passkey_attestation_untrusted');
  const transports = (response.response.transports ?? []).filter((t): t is string => typeof t === 'string' && TRANSPORTS.has(t));
  return ok({
    credentialId: credential.credentialId,
    publicKey: credential.publicKey,
    alg,
    signCount: authData.signCount,
    aaguid,
    userVerified: authData.flags.uv,
    backupEligible: authData.flags.be,
    backupState: authData.flags.bs,
    attestationFormat: fmt,
    attestationTrusted: trust.trusted,
    trustReason: trust.reason,
    transports: [...new Set(transports)],
  });
}

/** The certificate chain an attestation statement carries (leaf first), if any. */
function attestationChain(fmt: string, attStmt: CborMap): Uint8Array[] {
  const x5c = attStmt.get('x5c');
  if (Array.isArray(x5c)) return x5c.filter((c): c is Uint8Array => c instanceof Uint8Array);
  if (fmt === 'android-safetynet') {
    const jws = attStmt.get('response');
    if (!(jws instanceof Uint8Array)) return [];
    try {
      const header = JSON.parse(Buffer.from(Buffer.from(jws).toString('utf8').split('.')[0] ?? '', 'base64url').toString('utf8')) as { x5c?: unknown };
      if (Array.isArray(header.x5c)) return header.x5c.filter((c): c is string => typeof c === 'string').map((c) => new Uint8Array(Buffer.from(c, 'base64')));
    } catch {
      return [];
    }
  }
  return [];
}
