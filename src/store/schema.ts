/**
 * Row types of every table, as Kysely sees them. Times are milliseconds since the epoch; flags are
 * 0/1 integers and lists are JSON text, so both backends store the same values.
 */
import type { Generated } from 'kysely';

export interface AccountsTable {
  id: string;
  username: string;
  display_name: string;
  role: string;
  status: string;
  /** WebAuthn user handle (base64url of 32 random bytes); never the username. */
  user_handle: string;
  email: string | null;
  created_at: number;
  updated_at: number;
  /** Last successful sign-in (migration 010); null before it or never. */
  last_sign_in_at: number | null;
}

export interface InvitationsTable {
  id: string;
  account_id: string;
  secret_hash: string;
  created_by: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  /** 'enrolment' (an administrator's link) or 'device' (a holder's device link); migration 011. */
  kind: Generated<string>;
  max_aal: number | null;
  passkey_id: string | null;
}

export interface PasskeysTable {
  id: string;
  account_id: string;
  credential_id: string;
  public_key: string;
  alg: number;
  sign_count: number;
  transports: string;
  aaguid: string;
  backup_eligible: number;
  backup_state: number;
  user_verified: number;
  attestation_format: string;
  attestation_trusted: number;
  nickname: string;
  status: string;
  flagged_reason: string | null;
  created_at: number;
  last_used_at: number | null;
}

export interface CeremoniesTable {
  challenge_hash: string;
  kind: string;
  account_id: string | null;
  invitation_id: string | null;
  created_at: number;
  expires_at: number;
}

export interface SessionsTable {
  id: string;
  account_id: string;
  secret_hash: string;
  aal: number;
  acr: string;
  amr: string;
  auth_time: number;
  passkey_id: string | null;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  expires_at: number;
  ip: string;
  user_agent: string;
  revoked_at: number | null;
  /** `sign_in` or `recovery` (migration 013). */
  purpose: string;
}

export interface AuditEventsTable {
  seq: Generated<number>;
  at: number;
  type: string;
  outcome: string;
  reason: string | null;
  account_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: string;
  prev_hash: string;
  hash: string;
  /** Anchor MAC (core/audit/anchor.ts); null before migration 007 or when written without a data key. */
  mac: string | null;
}

export interface AuditHeadTable {
  id: number;
  last_seq: number;
  last_hash: string;
  mac: string | null;
}

export interface RateLimitsTable {
  key: string;
  window_start: number;
  count: number;
}

export interface SettingsTable {
  key: string;
  value: string;
}

/** oidc-provider model instances (migration 002); `key` is SHA-256 of the instance id. */
export interface OidcPayloadsTable {
  model: string;
  key: string;
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  account_id: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

export interface OidcClientsTable {
  client_id: string;
  name: string;
  /** Client metadata as oidc-provider reads it (JSON). */
  metadata: string;
  shared_secret: number;
  created_at: number;
}

export interface OidcSigningKeysTable {
  kid: string;
  alg: string;
  status: string;
  /** Private JWK sealed with the data keys. */
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  retire_at: number | null;
  /** When the key starts signing (migration 006); null: from its creation. */
  activate_at: number | null;
}

/** Which Keybound session each provider grant was issued from (migration 006). */
export interface OidcGrantSessionsTable {
  grant_id: string;
  session_id: string;
  account_id: string;
  passkey_id: string | null;
  provider_session_uid: string | null;
  offline: number;
  created_at: number;
  /** The client and the `sid` of its ID tokens (migration 009); null on older bindings. */
  client_id: Generated<string | null>;
  sid: Generated<string | null>;
}

/** Logout tokens waiting to be delivered (migration 009, src/oidc/backchannel.ts). */
export interface OidcLogoutOutboxTable {
  id: string;
  client_id: string;
  account_id: string;
  sid: string | null;
  session_id: string;
  reason: string;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
}

/** Shared Signals event streams (migration 018; src/ssf). */
export interface SsfStreamsTable {
  id: string;
  client_id: string;
  endpoint_url: string;
  authorization_header: string | null;
  /** JSON array of event type URIs. */
  events_requested: string;
  description: string | null;
  status: string;
  status_reason: string | null;
  delivered: number;
  failed: number;
  last_delivered_at: number | null;
  last_failure: string | null;
  last_failure_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface SsfStreamSubjectsTable {
  stream_id: string;
  account_id: string;
  created_at: number;
}

/** Security Event Tokens owed to a stream (migration 018). */
export interface SsfOutboxTable {
  id: string;
  stream_id: string;
  event_type: string;
  /** JSON: `{ accountId, event }` (the event's members, signed into the SET at each attempt). */
  payload: string;
  txn: string;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
}

/** One-time-code authenticators (migration 003); `secret` is a sealed TOTP seed. */
export interface AuthenticatorsTable {
  id: string;
  account_id: string;
  kind: string;
  status: string;
  secret: string | null;
  /** JSON of the TOTP parameters. */
  totp_params: string | null;
  destination: string | null;
  last_step: number | null;
  failures: Generated<number>;
  disabled_reason: string | null;
  created_at: number;
  confirmed_at: number | null;
  last_used_at: number | null;
}

export interface CodeAttemptsTable {
  id_hash: string;
  purpose: string;
  factor: string;
  account_id: string | null;
  authenticator_id: string | null;
  throttle_key: string;
  code_hash: string | null;
  refused_reason: string | null;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

export interface RecoveryCodesTable {
  id: string;
  authenticator_id: string;
  code_hash: string;
  used_at: number | null;
}

export interface CodeThrottlesTable {
  key: string;
  failures: number;
  delay_ms: number;
  blocked_until: number;
  updated_at: number;
}

/** Imported FIDO metadata (migration 005): the BLOB, and one row per AAGUID. */
export interface AttestationMetadataBlobTable {
  id: number;
  no: number;
  next_update: string;
  imported_at: number;
  entries: number;
}

export interface AttestationMetadataTable {
  aaguid: string;
  description: string;
  /** JSON array of base64 DER certificates. */
  root_certificates: string;
  /** JSON array of `{status, effectiveDate?}`. */
  status_reports: string;
  blob_no: number;
  next_update: string;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

/** Accounts brought over from another system (migration 019). */
export interface ImportedAccountsTable {
  account_id: string;
  source: string;
  external_id: string | null;
  /** PHC string of the old password, until a passkey is bound. */
  password_hash: string | null;
  phone: string | null;
  imported_at: number;
  password_removed_at: number | null;
}

/** What SCIM says of an account beyond the account row (migration 022). */
export interface ScimUsersTable {
  account_id: string;
  /** The provisioning client's id for the user (RFC 7643 §3.1), at most 255 characters. */
  external_id: string | null;
  given_name: string | null;
  family_name: string | null;
  /** Counted up on every SCIM change: part of the ETag. */
  version: number;
  updated_at: number;
}

/** Adoption reminders claimed and sent (migration 022): one per account and schedule step. */
export interface AdoptionRemindersTable {
  account_id: string;
  days_before: number;
  claimed_at: number;
  sent_at: number | null;
}

/** Two-person approvals (migration 014): assisted recoveries and raising a role to admin. */
export interface ApprovalsTable {
  id: string;
  kind: string;
  account_id: string;
  state: string;
  requested_by: string;
  requester_id: string | null;
  reason: string | null;
  revoke_existing: Generated<number>;
  role_from: string | null;
  role_to: string | null;
  approved_by: string | null;
  approver_id: string | null;
  approved_at: number | null;
  release_at: number | null;
  release_noticed_at: number | null;
  invitation_id: string | null;
  linked_at: number | null;
  cancelled_by: string | null;
  cancelled_at: number | null;
  created_at: number;
}

export interface Database {
  accounts: AccountsTable;
  invitations: InvitationsTable;
  passkeys: PasskeysTable;
  ceremonies: CeremoniesTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  audit_head: AuditHeadTable;
  rate_limits: RateLimitsTable;
  settings: SettingsTable;
  schema_migrations: SchemaMigrationsTable;
  oidc_payloads: OidcPayloadsTable;
  oidc_clients: OidcClientsTable;
  oidc_signing_keys: OidcSigningKeysTable;
  authenticators: AuthenticatorsTable;
  code_attempts: CodeAttemptsTable;
  recovery_codes: RecoveryCodesTable;
  code_throttles: CodeThrottlesTable;
  attestation_metadata_blob: AttestationMetadataBlobTable;
  attestation_metadata: AttestationMetadataTable;
  oidc_grant_sessions: OidcGrantSessionsTable;
  oidc_logout_outbox: OidcLogoutOutboxTable;
  imported_accounts: ImportedAccountsTable;
  scim_users: ScimUsersTable;
  adoption_reminders: AdoptionRemindersTable;
  approvals: ApprovalsTable;
  workloads: WorkloadsTable;
  api_keys: ApiKeysTable;
  delegations: DelegationsTable;
  ssf_streams: SsfStreamsTable;
  ssf_stream_subjects: SsfStreamSubjectsTable;
  ssf_outbox: SsfOutboxTable;
}

/** Services and agents (migration 016, src/services/nhi/workloads.ts); `client_id` is their OpenID client. */
export interface WorkloadsTable {
  client_id: string;
  name: string;
  owner_id: string;
  kind: string;
  status: string;
  disabled_reason: string | null;
  token_ttl_s: number;
  /** JSON JWK Set the last rotation replaced, valid until `previous_jwks_until`. */
  previous_jwks: string | null;
  previous_jwks_until: number | null;
  keys_rotated_at: number | null;
  created_at: number;
  last_used_at: number | null;
}

/** API keys (migration 017, src/services/nhi/apiKeys.ts); only SHA-256 of the key is kept. */
export interface ApiKeysTable {
  id: string;
  key_hash: string;
  owner_id: string;
  name: string;
  /** JSON array of scopes. */
  scopes: string;
  status: string;
  revoked_reason: string | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
  replaced_by: string | null;
}

/** Delegations of a person to an agent workload (migration 020, src/services/nhi/delegations.ts). */
export interface DelegationsTable {
  id: string;
  account_id: string;
  /** The agent workload's client id. */
  client_id: string;
  /** JSON array of scopes. */
  scopes: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  last_used_at: number | null;
}
