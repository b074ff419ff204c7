/**
 * Every configuration key Keybound reads, with its default and the sentence the README shows.
 * This is the only place a default is declared; `load.ts` reads and validates, the README table is
 * checked against this list by a test.
 */

export type KeyKind = 'port' | 'string' | 'optional' | 'origins' | 'list' | 'seconds' | 'count' | 'bool' | 'enum' | 'bytes';

export interface KeySpec {
  readonly env: string;
  readonly kind: KeyKind;
  readonly default: string;
  readonly doc: string;
  /** For `enum` keys: the accepted values. */
  readonly values?: readonly string[];
}

export const CONFIG_KEYS = [
  { env: 'KEYBOUND_PORT', kind: 'port', default: '8080', doc: 'TCP port the server listens on.' },
  { env: 'KEYBOUND_HOST', kind: 'string', default: 'localhost', doc: 'Address the server binds to (`0.0.0.0` or `::` to accept outside connections).' },
  { env: 'KEYBOUND_ORIGIN', kind: 'origins', default: 'http://localhost:8080', doc: 'Allowed web origins, comma-separated; the first is the public URL used in links.' },
  { env: 'KEYBOUND_RP_ID', kind: 'string', default: 'localhost', doc: 'WebAuthn relying-party id: the registrable domain passkeys are bound to.' },
  { env: 'KEYBOUND_RP_NAME', kind: 'string', default: 'Keybound', doc: 'Relying-party name shown by authenticators.' },
  { env: 'KEYBOUND_DATABASE_URL', kind: 'string', default: 'sqlite:./data/keybound.db', doc: '`sqlite:<path>` or `postgres://user@host:port/db` (add `?schema=<name>` to use a schema other than `public`).' },
  { env: 'KEYBOUND_DATA_KEYS', kind: 'optional', default: '', doc: 'Keys that encrypt secrets Keybound must read back (TOTP seeds, token-signing keys): `id:base64(32 bytes)`, comma-separated, the first encrypts, all decrypt. Unset with SQLite: a key file is made beside the database. Required with PostgreSQL. `npx keybound keys generate-data-key` prints one.' },
  { env: 'KEYBOUND_LOG_LEVEL', kind: 'enum', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], doc: 'Log level of the JSON logs on stdout.' },
  { env: 'KEYBOUND_TRUST_PROXY', kind: 'bool', default: 'false', doc: 'Take the client address from `X-Forwarded-For` (only behind a proxy you run).' },
  { env: 'KEYBOUND_ALLOWED_TOP_ORIGINS', kind: 'origins', default: '', doc: 'Top-level origins allowed to embed passkey ceremonies in a cross-origin iframe; empty refuses cross-origin ceremonies.' },
  { env: 'KEYBOUND_ATTESTATION', kind: 'enum', default: 'none', values: ['none', 'direct'], doc: '`none`: any passkey is accepted and its attestation recorded as untrusted. `direct`: only authenticators on the AAGUID allow-list or chaining to a trust anchor are accepted.' },
  { env: 'KEYBOUND_ATTESTATION_AAGUIDS', kind: 'list', default: '', doc: 'AAGUIDs (comma-separated) whose verified certificate attestation policy trusts.' },
  { env: 'KEYBOUND_ATTESTATION_TRUST_ANCHORS', kind: 'list', default: '', doc: 'PEM files (comma-separated) of attestation root certificates policy trusts.' },
  { env: 'KEYBOUND_ADMIN_ALLOW_SYNCED_PASSKEYS', kind: 'bool', default: 'false', doc: 'Whether the `admin` role may use syncable (backup-eligible) passkeys.' },
  { env: 'KEYBOUND_MEMBER_ALLOW_SYNCED_PASSKEYS', kind: 'bool', default: 'true', doc: 'Whether the `member` role may use syncable (backup-eligible) passkeys.' },
  { env: 'KEYBOUND_CHALLENGE_TTL', kind: 'seconds', default: '300', doc: 'Lifetime of a WebAuthn challenge in seconds.' },
  { env: 'KEYBOUND_INVITATION_TTL', kind: 'seconds', default: '86400', doc: 'Lifetime of an enrolment link made by `keybound invite`, in seconds (the first administrator\'s link lives 900 s).' },
  { env: 'KEYBOUND_FRESH_AUTH_MAX_AGE', kind: 'seconds', default: '300', doc: 'How recent a passkey sign-in must be to add a passkey or change other authenticators.' },
  { env: 'KEYBOUND_SESSION_AAL1_IDLE', kind: 'seconds', default: '86400', doc: 'Idle limit of an AAL1 session.' },
  { env: 'KEYBOUND_SESSION_AAL1_MAX', kind: 'seconds', default: '2592000', doc: 'Absolute limit of an AAL1 session (NIST SP 800-63B-4: 30 days).' },
  { env: 'KEYBOUND_SESSION_AAL2_IDLE', kind: 'seconds', default: '3600', doc: 'Idle limit of an AAL2 session (NIST: 1 hour).' },
  { env: 'KEYBOUND_SESSION_AAL2_MAX', kind: 'seconds', default: '86400', doc: 'Absolute limit of an AAL2 session (NIST: 24 hours).' },
  { env: 'KEYBOUND_SESSION_AAL3_IDLE', kind: 'seconds', default: '900', doc: 'Idle limit of an AAL3 session (NIST: 15 minutes).' },
  { env: 'KEYBOUND_SESSION_AAL3_MAX', kind: 'seconds', default: '43200', doc: 'Absolute limit of an AAL3 session (NIST: 12 hours).' },
  { env: 'KEYBOUND_RATE_LIMIT_CEREMONY', kind: 'count', default: '60', doc: 'Passkey ceremony requests allowed per client address per window; 0 lifts the limit.' },
  { env: 'KEYBOUND_RATE_LIMIT_WINDOW', kind: 'seconds', default: '60', doc: 'Length of the rate-limit window in seconds.' },
  { env: 'KEYBOUND_BODY_LIMIT', kind: 'bytes', default: '65536', doc: 'Largest request body accepted, in bytes.' },
  { env: 'KEYBOUND_REQUEST_TIMEOUT', kind: 'seconds', default: '10', doc: 'Time a client has to send a whole request.' },
  { env: 'KEYBOUND_KEEP_ALIVE_TIMEOUT', kind: 'seconds', default: '5', doc: 'How long an idle keep-alive connection is held open.' },
  { env: 'KEYBOUND_SHUTDOWN_GRACE', kind: 'seconds', default: '10', doc: 'On SIGTERM, how long requests in flight may take before the server exits anyway.' },
] as const satisfies readonly KeySpec[];

export type ConfigKey = (typeof CONFIG_KEYS)[number]['env'];
