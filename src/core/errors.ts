/**
 * The error registry: every failure Keybound reports to a client has one of these stable codes, an
 * HTTP status and a sentence a person can act on. Expected failures travel as `Failure` values;
 * exceptions are for bugs and infrastructure faults.
 */
export const ERRORS = {
  // Requests
  invalid_request: [400, 'The request is malformed. Check the fields and their types.'],
  request_too_large: [413, 'The request body is larger than this server accepts.'],
  request_headers_too_large: [431, 'The request headers are larger than this server accepts.'],
  uri_too_long: [414, 'The request address is longer than this server accepts.'],
  request_timeout: [408, 'The request took too long to arrive. Send it again.'],
  unsupported_media_type: [415, 'Send the request body as application/json.'],
  not_found: [404, 'There is nothing at this address.'],
  method_not_allowed: [405, 'This address does not accept that method.'],
  origin_not_allowed: [403, 'The request came from a web origin this server does not trust.'],
  rate_limited: [429, 'Too many attempts from your network. Wait a moment and try again.'],
  // Sessions
  session_required: [401, 'Sign in to continue.'],
  session_expired: [401, 'Your session has ended. Sign in again.'],
  fresh_auth_required: [403, 'For this change, sign in again with a passkey first (your last sign-in is too old).'],
  step_up_required: [401, 'Sign in again with a passkey to continue.'],
  risk_denied: [403, 'This sign-in was refused by the risk policy. Sign in with a passkey, or ask your administrator.'],
  session_end_not_allowed: [403, 'A session signed in with a one-time or recovery code cannot end a session signed in with a passkey. Sign in with a passkey to end it.'],
  session_limit_reached: [403, 'This account already has as many sessions signed in with a passkey as it may have, and a sign-in with a code cannot end them. Sign in with a passkey, which ends the least recently used one.'],
  // Account administration (README "Account lifecycle")
  admin_required: [403, 'This needs an administrator signed in with a passkey at the level the admin role requires.'],
  approval_not_found: [404, 'No such request awaiting approval.'],
  approval_not_allowed: [403, 'A request needing two people is approved by a second administrator: neither the one who asked for it nor the account holder, signed in with a passkey.'],
  approval_conflict: [409, 'This request is no longer awaiting approval: it was approved or cancelled already.'],
  recovery_not_released: [409, 'This recovery is not released yet: it waits out its delay so the holder can cancel it. Try again after retry_after seconds.'],
  recovery_link_issued: [409, 'The enrolment link of this recovery was issued already; it is shown once. Cancel the recovery and request a new one if it was lost.'],
  policy_would_weaken_account: [403, 'This change would open a way into the account that is weaker than its role allows, so it was refused. Keep to passkeys, or ask an administrator about the role\'s policy.'],
  account_status_conflict: [409, 'The account is not in a state that allows this change.'],
  // Enrolment
  enrolment_token_unknown: [404, 'This enrolment link is not valid. Ask your administrator for a new one.'],
  enrolment_token_expired: [410, 'This enrolment link has expired. Ask your administrator for a new one.'],
  enrolment_token_used: [410, 'This enrolment link has already been used. Sign in, or ask your administrator for a new link.'],
  account_not_active: [403, 'This account is not active. Contact your administrator.'],
  account_already_active: [409, 'This account is active, and an enrolment link never adds a passkey to an active account. For a holder who lost every passkey, start an assisted recovery: `npx keybound recoveries request <username>`.'],
  invite_changes_account: [409, 'This account exists already, and an enrolment link never changes an existing account. Leave out --role, --email and --display-name to send it a new link; change a role with `keybound accounts set-role`.'],
  // WebAuthn ceremonies
  passkey_challenge_unknown: [400, 'This sign-in attempt is not known or was already used. Start again.'],
  passkey_challenge_expired: [400, 'This attempt took too long and expired. Start again.'],
  passkey_challenge_mismatch: [400, 'The passkey answered a different challenge. Start again.'],
  passkey_ceremony_type_mismatch: [400, 'The passkey response is for a different kind of ceremony.'],
  passkey_origin_mismatch: [400, 'The passkey was used from a web origin this server does not trust.'],
  passkey_cross_origin_not_allowed: [400, 'Passkeys cannot be used from inside a frame of another site here.'],
  passkey_rp_id_mismatch: [400, 'The passkey belongs to a different site.'],
  passkey_user_not_present: [400, 'The authenticator did not confirm that you were present. Try again and touch or unlock it.'],
  passkey_user_not_verified: [400, 'Your authenticator did not verify you (no PIN, fingerprint or face check). Use an authenticator with a screen lock, PIN or biometric.'],
  passkey_unsupported_algorithm: [400, 'This passkey uses a signature algorithm this server does not accept. Use another authenticator.'],
  passkey_malformed: [400, 'The passkey response could not be read.'],
  passkey_signature_invalid: [400, 'The passkey signature did not verify.'],
  passkey_unknown_credential: [400, 'This passkey is not registered here. Use another passkey or ask for an enrolment link.'],
  passkey_user_handle_mismatch: [400, 'This passkey belongs to a different account.'],
  passkey_sign_count_regressed: [400, 'This passkey reported a signature counter that went backwards, a sign it may have been cloned. It has been flagged; use another passkey and tell your administrator.'],
  passkey_backup_eligibility_changed: [400, 'This passkey changed whether it can be synced, which a genuine passkey never does. Use another passkey.'],
  passkey_flagged: [403, 'This passkey has been disabled after a security check. Use another passkey and tell your administrator.'],
  passkey_synced_not_allowed: [403, 'Your role requires a device-bound passkey, and this one syncs to other devices. Use a security key, or a platform authenticator that keeps the key on this device.'],
  passkey_already_registered: [409, 'This authenticator is already registered to your account.'],
  passkey_attestation_invalid: [400, 'The authenticator\'s attestation statement did not verify.'],
  passkey_attestation_untrusted: [403, 'This server only accepts authenticator models it trusts, and this authenticator is not one of them. Use an approved security key.'],
  passkey_attestation_unsupported_format: [400, 'The authenticator used an attestation format this server does not know.'],
  passkey_not_found: [404, 'No such passkey on your account.'],
  passkey_last_one: [409, 'This is your only passkey. Add another before removing it, so you can still sign in.'],
  account_not_found: [404, 'No such account.'],
  username_taken: [409, 'That username is already in use.'],
  session_not_found: [404, 'No such session.'],
  passkey_authenticator_compromised: [403, 'The FIDO Alliance reports this authenticator model as compromised or revoked, so it cannot be registered. Use another security key or passkey.'],
  passkey_above_session_level: [403, 'This passkey would reach a higher assurance level than the sign-in you are using, and a session can only add authenticators at or below its own level. Use an enrolment link from your administrator, or first sign in with a passkey at that level.'],
  metadata_blob_invalid: [400, 'This FIDO metadata BLOB did not verify: it must be a JWT whose x5c chain ends at the FIDO root certificate given with --root, signed by the chain\'s first certificate. Download both again from the FIDO Alliance.'],
  metadata_blob_not_newer: [409, 'A FIDO metadata BLOB with the same or a higher number is already imported. Download the newest BLOB from the FIDO Alliance.'],
  // OpenID provider (docs/oidc.md)
  interaction_expired: [400, 'This sign-in request has expired or was already completed. Go back to the application and start again.'],
  acr_not_reached: [403, 'This passkey does not reach the level this application asks for. Use a passkey that does (for the highest level: a device-bound security key your organisation approved).'],
  acr_unreachable: [403, 'Your account has no passkey that can reach the level this application asks for. Ask your administrator to enrol an approved device-bound security key.'],
  client_invalid: [400, 'These client settings are not valid.'],
  client_not_found: [404, 'No such client.'],
  grant_not_found: [404, 'No such connected app on your account.'],
  // Workloads and API keys (docs/nhi.md)
  workload_invalid: [400, 'These workload settings are not valid.'],
  workload_not_found: [404, 'No such workload.'],
  owner_not_active: [409, 'A workload or API key needs an active account as its owner.'],
  delegation_invalid: [400, 'This delegation is not valid: choose an agent, scopes it is allowed, and an expiry within the maximum.'],
  delegation_not_found: [404, 'No such delegation, or it has already ended.'],
  api_key_invalid: [400, 'These API key settings are not valid.'],
  api_key_not_found: [404, 'No such API key.'],
  api_key_rejected: [401, 'This API key is not valid: it is unknown, expired or revoked.'],
  // Shared Signals (docs/shared-signals.md)
  ssf_token_required: [401, 'Send an access token: Authorization: Bearer <token>, obtained with client credentials and scope ssf.'],
  ssf_token_invalid: [401, 'This access token is not valid here: it is unknown, expired, or bound to a key (DPoP). Get a new one with client credentials and scope ssf.'],
  ssf_scope_required: [403, 'This client is not allowed Shared Signals streams: its token lacks the ssf scope, or the client is no longer allowed it (keybound clients update --scope ... ssf).'],
  ssf_stream_not_found: [404, 'No such stream for this client.'],
  ssf_stream_invalid: [400, 'These stream settings are not valid.'],
  ssf_endpoint_not_https: [400, 'The push endpoint must be an https:// URL (http:// only to localhost, 127.x.x.x or [::1]), without credentials or a fragment.'],
  ssf_delivery_unsupported: [400, 'Only push delivery (method urn:ietf:rfc:8935, RFC 8935) is supported; give delivery.method and delivery.endpoint_url.'],
  ssf_subject_unsupported: [400, 'A subject is given as {"format": "iss_sub", "iss": <this issuer>, "sub": <account id>}.'],
  ssf_stream_limit: [409, 'This client has as many streams as it may have. Delete one first.'],
  // One-time codes (README "One-time codes")
  code_malformed: [400, 'That is not a code of the right form. Type the digits you were given (spaces are fine), or for a recovery code its 16 letters and digits.'],
  code_invalid: [400, 'That code is not right. Check it and try again, or ask for a new one; if it keeps failing, sign in with a passkey.'],
  code_expired: [400, 'This sign-in attempt has expired. Start again to get a new code.'],
  code_used: [400, 'This code has already been used. Wait for the next code from your app, or ask for a new one.'],
  code_throttled: [429, 'Too many wrong codes. Wait before trying again, or sign in with a passkey, which has no such wait.'],
  code_send_limit: [429, 'Too many codes were sent recently. Wait before asking for another, or sign in with a passkey.'],
  factor_not_allowed: [403, 'Your role does not allow this sign-in method. Sign in with a passkey instead.'],
  authenticator_disabled: [403, 'This sign-in method was disabled after too many wrong codes. Sign in with a passkey and set it up again.'],
  sms_sim_changed: [403, 'The SIM card for this phone number changed recently, so text-message codes to it are refused for now. Sign in with a passkey; if you did not change your SIM, tell your administrator.'],
  factor_not_found: [404, 'No such sign-in method on your account.'],
  factor_setup_unknown: [404, 'There is no set-up waiting for confirmation, or it took too long. Start the set-up again.'],
  phone_invalid: [400, 'Enter the phone number in international form: + and the country code, then the number (for example +44 7700 900123).'],
  email_missing: [409, 'Your account has no email address to send codes to. Ask your administrator to add one.'],
  delivery_failed: [502, 'The code could not be sent. Try again in a moment, or sign in with a passkey.'],
  // Devices (README "Add a device", "Lost device")
  passkey_lost_own_session: [403, 'This session signed in with the passkey you are reporting lost. Sign in with another of your passkeys, on another device, and report it from there.'],
  // Recovery (README "Recovery")
  recovery_session_limited: [403, 'This is a recovery session: it can only add a new passkey and see or end your sessions. Add a passkey on your account page; you are then signed in with it.'],
  recovery_proof_required: [403, 'Your role needs a second proof for recovery: besides the recovery code, a code from your authenticator app or one sent to your verified email address or phone. Start again with both.'],
  recovery_not_allowed: [403, 'Self-service recovery is not available for your account. Ask your administrator for an assisted recovery.'],
  // Moving from another system (README "Importing accounts")
  migration_closed: [403, 'Signing in with your old password is no longer possible: the move to passkeys has ended for your role. Ask your administrator for an enrolment link to add a passkey.'],
  migration_credentials_invalid: [401, 'That username and password do not match an account that is moving to passkeys. Check them, or ask your administrator for an enrolment link.'],
  migration_code_required: [401, 'Your account also has an authenticator app: enter its current code together with your password.'],
  migration_session_limited: [403, 'This session can only add your first passkey. Add one now; you are then signed in with it.'],
  // Infrastructure
  service_unavailable: [503, 'The service is briefly unavailable. Try again in a few seconds.'],
  internal_error: [500, 'Something went wrong on our side. It has been logged.'],
  // SCIM 2.0 (docs/scim.md); answered in the SCIM error format (RFC 7644 §3.12) with these statuses.
  scim_token_required: [401, 'Send a bearer credential: an API key with scope scim, or a client-credentials access token with scope scim.'],
  scim_token_invalid: [401, 'This credential is not valid: unknown, expired or revoked.'],
  scim_scope_required: [403, 'This credential is not allowed SCIM provisioning: it lacks the scim scope.'],
  scim_invalid_filter: [400, 'The filter is not valid, or uses what this server does not support: eq on userName, emails (or emails.value) and externalId, joined with and.'],
  scim_invalid_value: [400, 'An attribute value is missing or not valid.'],
  scim_invalid_syntax: [400, 'The request body is not a valid SCIM message.'],
  scim_invalid_path: [400, 'The PATCH path is not valid or names an attribute this server does not keep.'],
  scim_no_target: [400, 'The PATCH path matches nothing in the resource.'],
  scim_mutability: [400, 'This attribute cannot be changed.'],
  scim_uniqueness: [409, 'A user with this userName exists already.'],
  scim_precondition_failed: [412, 'The resource changed since the version in If-Match. Read it again and retry.'],
  scim_not_found: [404, 'No such resource.'],
  scim_account_protected: [403, 'Administrators are not managed by SCIM: change them with `keybound accounts`. SCIM never grants the admin role.'],
  metrics_token_required: [401, 'Metrics need the operator\'s token: send Authorization: Bearer <KEYBOUND_METRICS_TOKEN>.'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERRORS;

/** An expected failure: a stable code, and optionally a sentence that replaces the default. */
export interface Failure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly message?: string;
  /** Seconds to wait before retrying, where a limit applies. */
  readonly retryAfter?: number;
  /** A step-up or risk refusal (core/risk): what it requires and every reason, by code. */
  readonly risk?: RiskRefusal;
}

/** What a `step_up_required` or `risk_denied` answer carries besides its sentence. */
export interface RiskRefusal {
  readonly reasons: readonly string[];
  /** The `acr` to sign in at again (RFC 9470 `acr_values`), for a step-up. */
  readonly acrValues?: string | null;
  /** The longest age in seconds the new sign-in may have (RFC 9470 `max_age`), for a step-up. */
  readonly maxAge?: number | null;
}

export interface Success<T> {
  readonly ok: true;
  readonly value: T;
}

export type Result<T> = Success<T> | Failure;

export const ok = <T>(value: T): Success<T> => ({ ok: true, value });

export const fail = (code: ErrorCode, extra: { message?: string; retryAfter?: number; risk?: RiskRefusal } = {}): Failure => ({
  ok: false,
  code,
  ...extra,
});

export function errorStatus(code: ErrorCode): number {
  return ERRORS[code][0];
}

export function errorMessage(code: ErrorCode): string {
  return ERRORS[code][1];
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERRORS, value);
}
