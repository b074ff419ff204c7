/**
 * Every stored string has a bound (issue 5, "Limits"): the longest text, in characters, each column may
 * hold, whatever a client sends. The bounds come from the edge (JSON schemas, services) and from what
 * Keybound itself writes. `checkStringBounds` measures a database against them and also fails on any
 * text column missing here: a new column must say how long its values can get, and why.
 */
import { sql, type Kysely } from 'kysely';
import { expect, type RunnerTask } from 'vitest';
import { openDatabase, type Db } from '../../../src/store/db.ts';
import { record } from './report.ts';

const ID = 36; // UUIDs
const HASH = 64; // base64url SHA-256 (43) with room
const TOKEN_ID = 32; // base64url of 12 random bytes (16)

export const STRING_BOUNDS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  accounts: { id: ID, username: 64, display_name: 128, role: 16, status: 16, user_handle: 64, email: 254 },
  // kind, passkey_id (migration 011): 'enrolment' or 'device', and the issuing session's passkey id.
  invitations: { id: TOKEN_ID, account_id: ID, secret_hash: HASH, created_by: 64, kind: 16, passkey_id: ID },
  // credential_id: 1023 bytes in base64url (schemas.ts); public_key: inside an attestation object of
  // at most 48 000 base64url characters; transports: at most 8 known names.
  passkeys: {
    id: ID,
    account_id: ID,
    credential_id: 1364,
    public_key: 36_000,
    transports: 128,
    aaguid: 36,
    attestation_format: 32,
    nickname: 64,
    status: 16,
    flagged_reason: 64,
  },
  // Migration 014: kind, state and roles are closed lists; requested_by/approved_by/cancelled_by are
  // `cli`, `cli:bootstrap` or `admin:<username>` (64), or `holder:<username>`; reason: MAX_REASON.
  approvals: { id: ID, kind: 16, account_id: ID, state: 32, requested_by: 80, requester_id: ID, reason: 500, role_from: 16, role_to: 16, approved_by: 80, approver_id: ID, invitation_id: TOKEN_ID, cancelled_by: 80 },
  ceremonies: { challenge_hash: HASH, kind: 32, account_id: ID, invitation_id: TOKEN_ID },
  // ip: clientAddress() keeps 64 characters; user_agent: requestContext() keeps 512; purpose
  // (migration 013): 'sign_in' or 'recovery'.
  sessions: { id: TOKEN_ID, account_id: ID, secret_hash: HASH, acr: 64, amr: 128, passkey_id: ID, ip: 64, user_agent: 512, purpose: 16 },
  // mac (migration 007): `<data key id>.<HMAC-SHA256 in base64url>`, key ids at most 64 (dataKeys.ts).
  audit_events: { type: 64, outcome: 16, reason: 64, account_id: ID, ip: 64, user_agent: 512, details: 8192, prev_hash: HASH, hash: HASH, mac: 128 },
  audit_head: { last_hash: HASH, mac: 128 },
  settings: { key: 128, value: 4096 },
  rate_limits: { key: 128 },
  schema_migrations: { name: 64 },
  // One-time codes (migration 003): sealed seeds, phone numbers and addresses, hashes.
  authenticators: { id: ID, account_id: ID, kind: 32, status: 16, secret: 1024, totp_params: 256, destination: 320, disabled_reason: 64 },
  code_attempts: { id_hash: HASH, purpose: 32, factor: 32, account_id: ID, authenticator_id: ID, throttle_key: 128, code_hash: 256, refused_reason: 64 },
  code_throttles: { key: 128 },
  recovery_codes: { id: ID, authenticator_id: ID, code_hash: 256 },
  // OpenID provider (migration 002): model payloads are JSON the provider writes, bounded by the
  // request parameters it accepts; client metadata is set by administrators.
  oidc_payloads: { model: 64, key: HASH, payload: 65_536, grant_id: 128, uid: 128, user_code: 64, account_id: ID },
  oidc_clients: { client_id: 128, name: 128, metadata: 16_384 },
  oidc_signing_keys: { kid: 128, alg: 16, status: 16, private_jwk: 16_384, public_jwk: 8192 },
  // FIDO metadata (migration 005): written only by `keybound attestation import-mds` from a BLOB whose
  // signature chain verified to the administrator's root, never from a request. The bounds are well
  // above what FIDO's BLOB holds per authenticator (descriptions under 200 characters, a few root
  // certificates, a status history of a few entries).
  attestation_metadata_blob: { next_update: 32 },
  attestation_metadata: { aaguid: 36, description: 1024, root_certificates: 65_536, status_reports: 65_536, next_update: 32 },
  // Grants bound to the Keybound session that authorized them (migration 006).
  oidc_grant_sessions: { grant_id: 128, session_id: TOKEN_ID, account_id: ID, passkey_id: ID, provider_session_uid: 128, client_id: 128, sid: 64 },
  // Back-channel logout (migration 009): client_id as oidc_clients; sid is oidc-provider's (a nanoid,
  // 21); id: base64url of 16 random bytes (22); reason: a SessionEndReason.
  oidc_logout_outbox: { id: TOKEN_ID, client_id: 128, account_id: ID, sid: 64, session_id: TOKEN_ID, reason: 32 },
  // Machine identities (migrations 016, 017): client_id as oidc_clients; names at most 100
  // (apiKeys.ts, and oidc/clients.ts for a workload's client); kind and status closed lists; reasons
  // lifecycle.ts MAX_REASON; previous_jwks workloads.ts MAX_JWKS; key ids `ak_` + 16; scopes a JSON
  // list of KEYBOUND_OIDC_RESOURCE_SCOPES.
  workloads: { client_id: 128, name: 100, owner_id: ID, kind: 16, status: 16, disabled_reason: 500, previous_jwks: 8192 },
  api_keys: { id: TOKEN_ID, key_hash: HASH, owner_id: ID, name: 100, scopes: 4096, status: 16, revoked_reason: 500, replaced_by: TOKEN_ID },
  // Delegations (migration 020, services/nhi/delegations.ts): id `dg_` + 16; client_id an agent
  // workload's; scopes a JSON list of the agent's allowed scopes (delegations.ts checks it); the
  // revoke reason a closed list (REVOKE_REASONS).
  delegations: { id: TOKEN_ID, account_id: ID, client_id: 128, scopes: 4096, revoked_reason: 32 },
  // Shared Signals (migration 018, ssf/streams.ts): ids base64url of 16 bytes; endpoint_url MAX_URL;
  // the receiver's authorization header (4000) sealed under a data key; events_requested at most 50
  // URIs of 300; description MAX_DESCRIPTION; status_reason MAX_REASON (200); last_failure
  // store/sql/ssf.ts MAX_FAILURE; a subject's sub at most 200; the outbox payload is one event of a
  // few claims (names and emails within their own bounds).
  ssf_streams: { id: TOKEN_ID, client_id: 128, endpoint_url: 2000, authorization_header: 8192, events_requested: 16_384, description: 500, status: 16, status_reason: 200, last_failure: 256 },
  ssf_stream_subjects: { stream_id: TOKEN_ID, account_id: 200 },
  // Imports (migration 019, services/import): source a closed list; external_id record.ts
  // MAX_EXTERNAL_ID; password_hash passwordHash.ts MAX_PHC; phone E.164 (+ and at most 15 digits).
  imported_accounts: { account_id: ID, source: 16, external_id: 255, password_hash: 512, phone: 16 },
  // SCIM (migration 022, core/scim/user.ts): external_id MAX_EXTERNAL_ID, name parts MAX_NAME_PART,
  // checked by desiredUser and the route schemas (src/scim/routes.ts).
  scim_users: { account_id: ID, external_id: 255, given_name: 128, family_name: 128 },
  adoption_reminders: { account_id: ID },
  ssf_outbox: { id: TOKEN_ID, stream_id: TOKEN_ID, event_type: 300, payload: 8192, txn: TOKEN_ID },
};

export interface BoundsCheck {
  /** `table.column: longest > bound` for each column over its bound. */
  readonly over: string[];
  /** `table.column` of text columns with no declared bound. */
  readonly undeclared: string[];
  /** Columns measured. */
  readonly columns: number;
}

async function textColumns(db: Db): Promise<[string, string][]> {
  const k = db.kysely as Kysely<any>;
  if (db.dialect === 'sqlite') {
    const tables = (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(k)).rows;
    const out: [string, string][] = [];
    for (const { name } of tables) {
      const columns = (await sql.raw<{ name: string; type: string }>(`pragma table_info(${name})`).execute(k)).rows;
      for (const c of columns) if (/text|char|clob/i.test(c.type)) out.push([name, c.name]);
    }
    return out;
  }
  const rows = (
    await sql<{ table_name: string; column_name: string }>`select table_name, column_name from information_schema.columns where table_schema = ${db.schema} and data_type in ('text', 'character varying', 'character')`.execute(k)
  ).rows;
  return rows.map((r) => [r.table_name, r.column_name]);
}

/** Measures the longest value of every text column against STRING_BOUNDS. */
export async function checkStringBounds(db: Db): Promise<BoundsCheck> {
  const k = db.kysely as Kysely<any>;
  const over: string[] = [];
  const undeclared: string[] = [];
  const columns = await textColumns(db);
  for (const [table, column] of columns) {
    const bound = STRING_BOUNDS[table]?.[column];
    if (bound === undefined) {
      undeclared.push(`${table}.${column}`);
      continue;
    }
    const { rows } = await sql.raw<{ n: number | string | null }>(`select max(length(${column})) as n from ${table}`).execute(k);
    const longest = Number(rows[0]?.n ?? 0);
    if (longest > bound) over.push(`${table}.${column}: ${longest} > ${bound}`);
  }
  return { over, undeclared, columns: columns.length };
}

/** Fails the test if any text column of the database at `url` holds a value past its bound, or has none declared; records the count. */
export async function expectStringsWithinBounds(url: string, task: RunnerTask, before?: (db: Db) => Promise<void>): Promise<void> {
  const db = openDatabase(url);
  try {
    await before?.(db);
    const measured = await checkStringBounds(db);
    expect(measured.undeclared).toEqual([]);
    expect(measured.over).toEqual([]);
    record(task, { notes: `${measured.columns} text columns measured against their bounds` });
  } finally {
    await db.close();
  }
}
