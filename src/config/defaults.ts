/**
 * Every configuration key Keybound reads, with its default and the sentence the README shows.
 * This is the only place a default is declared; `load.ts` reads and validates, the README table is
 * checked against this list by a test.
 */

export type KeyKind = 'port' | 'string' | 'optional' | 'origins' | 'list' | 'seconds' | 'count' | 'bool' | 'enum' | 'bytes' | 'duration';

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
  { env: 'KEYBOUND_ORIGIN', kind: 'origins', default: '', doc: 'Allowed web origins, comma-separated; the first is the public URL used in links. Unset: `http://localhost:<KEYBOUND_PORT>`.' },
  { env: 'KEYBOUND_RP_ID', kind: 'string', default: 'localhost', doc: 'WebAuthn relying-party id: the registrable domain passkeys are bound to.' },
  { env: 'KEYBOUND_RP_NAME', kind: 'string', default: 'Keybound', doc: 'Relying-party name shown by authenticators.' },
  { env: 'KEYBOUND_DATABASE_URL', kind: 'string', default: 'sqlite:./data/keybound.db', doc: '`sqlite:<path>` or `postgres://user@host:port/db` (add `?schema=<name>` to use a schema other than `public`). A PostgreSQL host other than loopback needs `sslmode=require`, `verify-ca` or `verify-full` in the URL (or an explicit `sslmode=disable`, which warns at boot).' },
  { env: 'KEYBOUND_DATABASE_TIMEOUT', kind: 'seconds', default: '5', doc: 'Longest one PostgreSQL statement may take (a stalled or unreachable database included) before the request answers 503 and is retried elsewhere; migrations are exempt.' },
  { env: 'KEYBOUND_DATABASE_START_WAIT', kind: 'seconds', default: '60', doc: 'How long a starting server waits for an unreachable database (trying again with growing pauses) before it exits with a message.' },
  { env: 'KEYBOUND_MIGRATE_ON_START', kind: 'bool', default: 'true', doc: 'Whether `serve` (and every CLI command) brings the database schema up to date when it starts. `false`: run `npx keybound migrate` as the database owner first, and let the server run as an account without the right to change the schema (OWASP ASVS 5.0 13.2.2); a server whose schema is behind then refuses to start.' },
  { env: 'KEYBOUND_DATA_KEYS', kind: 'optional', default: '', doc: 'Keys that encrypt secrets Keybound must read back (TOTP seeds, token-signing keys): `id:base64(32 bytes)`, comma-separated, the first encrypts, all decrypt. Unset with SQLite: a key file is made beside the database. Required with PostgreSQL. `npx keybound keys generate-data-key` prints one.' },
  { env: 'KEYBOUND_LOG_LEVEL', kind: 'enum', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], doc: 'Log level of the JSON logs on stdout.' },
  { env: 'KEYBOUND_TRUST_PROXY', kind: 'bool', default: 'false', doc: 'Take the client address from the last `X-Forwarded-For` entry, the one the proxy in front of Keybound appends (only behind a proxy you run).' },
  { env: 'KEYBOUND_ALLOWED_TOP_ORIGINS', kind: 'origins', default: '', doc: 'Top-level origins allowed to embed passkey ceremonies in a cross-origin iframe; empty refuses cross-origin ceremonies.' },
  { env: 'KEYBOUND_PASSKEY_KEY_CACHE', kind: 'count', default: '10000', doc: 'Passkey public keys kept imported per process (each about 5 KB of memory; importing one costs about as much as verifying with it). A key not kept is parsed within its one verification; `0` keeps none.' },
  { env: 'KEYBOUND_ATTESTATION', kind: 'enum', default: 'none', values: ['none', 'direct'], doc: '`none`: any passkey is accepted and its attestation recorded as untrusted unless its certificate chain verifies to a trusted root. `direct`: only authenticators whose attestation chain verifies to a trust anchor or to a root that imported FIDO metadata lists for their AAGUID are accepted (and, with an AAGUID allow-list, only those models).' },
  { env: 'KEYBOUND_ATTESTATION_AAGUIDS', kind: 'list', default: '', doc: 'AAGUIDs (comma-separated) of the authenticator models policy accepts. It narrows verified chains and never replaces one: a model on the list is trusted only when its attestation chain verifies to a trust anchor or an imported FIDO metadata root. Unset: any model with a verified chain.' },
  { env: 'KEYBOUND_ATTESTATION_TRUST_ANCHORS', kind: 'list', default: '', doc: 'PEM files (comma-separated) of attestation root certificates policy trusts for any model (for example a vendor root). FIDO metadata imported with `keybound attestation import-mds` adds the roots it lists, each for its own AAGUID.' },
  { env: 'KEYBOUND_ADMIN_ALLOW_SYNCED_PASSKEYS', kind: 'bool', default: 'false', doc: 'Whether the `admin` role may use syncable (backup-eligible) passkeys.' },
  { env: 'KEYBOUND_MEMBER_ALLOW_SYNCED_PASSKEYS', kind: 'bool', default: 'true', doc: 'Whether the `member` role may use syncable (backup-eligible) passkeys.' },
  { env: 'KEYBOUND_ADMIN_CODE_FACTORS', kind: 'list', default: '', doc: 'One-time-code factors the `admin` role may enrol and sign in with, comma-separated from `totp`, `sms`, `email`. Empty: passkeys only. (`recovery` is accepted and ignored with a warning: recovery codes are a recovery path, `KEYBOUND_ADMIN_RECOVERY`, never a sign-in.)' },
  { env: 'KEYBOUND_MEMBER_CODE_FACTORS', kind: 'list', default: '', doc: 'One-time-code factors the `member` role may enrol and sign in with (`totp`, `sms`, `email`; needs `KEYBOUND_MEMBER_MIN_AAL=1`; `recovery` is ignored with a warning, see `KEYBOUND_MEMBER_RECOVERY`). A sign-in with codes alone is AAL1. Empty: passkeys only (phishing-resistant by default).' },
  { env: 'KEYBOUND_ADMIN_MIN_AAL', kind: 'enum', default: '2', values: ['1', '2'], doc: 'Lowest level an `admin` sign-in may have: `2` needs a passkey; `1` also lets code factors sign in on their own.' },
  { env: 'KEYBOUND_MEMBER_MIN_AAL', kind: 'enum', default: '2', values: ['1', '2'], doc: 'Lowest level a `member` sign-in may have: `2` needs a passkey; `1` is needed for any code factor (codes alone are AAL1).' },
  { env: 'KEYBOUND_ADMIN_RECOVERY', kind: 'optional', default: '', doc: 'What self-service recovery needs for the `admin` role (README "Recovery"): `code` (one saved recovery code), `code+<factors>` (a saved recovery code and a second, independent proof from one of the factors listed, from `totp`, `sms`, `email`, for example `code+totp,email`), or `off` (no self-service recovery, and no recovery codes). Unset: `code` if `KEYBOUND_ADMIN_MIN_AAL=1`, else `code+` the factors that can be delivered (`totp`, and `sms` and `email` when configured). A recovery only ever opens a recovery session, never a sign-in.' },
  { env: 'KEYBOUND_MEMBER_RECOVERY', kind: 'optional', default: '', doc: 'What self-service recovery needs for the `member` role; the same values as `KEYBOUND_ADMIN_RECOVERY`. Unset: `code` if `KEYBOUND_MEMBER_MIN_AAL=1`, else a saved code and a second proof (`code+totp`, with `sms` and `email` when configured).' },
  { env: 'KEYBOUND_ADMIN_MIGRATION_UNTIL', kind: 'optional', default: '', doc: 'Until when an imported `admin` account may sign in once with its old password (and imported TOTP code) to bind a passkey (README "Importing accounts"): an ISO 8601 date (`2027-03-31`: through the end of that day, UTC) or a date and time with an offset. Unset: no password path.' },
  { env: 'KEYBOUND_MEMBER_MIGRATION_UNTIL', kind: 'optional', default: '', doc: 'Until when an imported `member` account may sign in once with its old password to bind a passkey; the same values as `KEYBOUND_ADMIN_MIGRATION_UNTIL`. Unset: no password path.' },
  { env: 'KEYBOUND_ADMIN_RETIRE_ON_PASSKEY', kind: 'list', default: '', doc: 'Code factors of an `admin` account disabled when it binds a passkey, comma-separated from `totp`, `sms`, `email` (for example `sms,email`); the holder is told. Empty: none.' },
  { env: 'KEYBOUND_MEMBER_RETIRE_ON_PASSKEY', kind: 'list', default: '', doc: 'Code factors of a `member` account disabled when it binds a passkey (`totp`, `sms`, `email`); the holder is told. Empty: none.' },
  { env: 'KEYBOUND_ADMIN_RECOVERY_DELAY', kind: 'duration', default: '24h', doc: 'How long an approved assisted recovery of an `admin` account waits before its enrolment link can be issued (README "Recovery"), while the holder is told and can cancel: a whole number and a unit `s`, `m`, `h` or `d` (`24h`, `90m`, `2s`), or `0`; at most `30d`.' },
  { env: 'KEYBOUND_MEMBER_RECOVERY_DELAY', kind: 'duration', default: '1h', doc: 'The same wait for a `member` account; the same values as `KEYBOUND_ADMIN_RECOVERY_DELAY`.' },
  { env: 'KEYBOUND_TOTP_ALGORITHM', kind: 'enum', default: 'SHA1', values: ['SHA1', 'SHA256', 'SHA512'], doc: 'HMAC of new TOTP enrolments (RFC 6238). Most authenticator apps only do SHA1.' },
  { env: 'KEYBOUND_TOTP_DIGITS', kind: 'enum', default: '6', values: ['6', '8'], doc: 'Digits of new TOTP enrolments.' },
  { env: 'KEYBOUND_TOTP_PERIOD', kind: 'seconds', default: '30', doc: 'Time step of new TOTP enrolments, in seconds (at most 30: OWASP ASVS 5.0 6.5.5).' },
  { env: 'KEYBOUND_TOTP_WINDOW', kind: 'count', default: '1', doc: 'Earlier TOTP time steps accepted besides the current one, for a code typed just as it changed (`0` or `1`; a code from a later step is never accepted).' },
  { env: 'KEYBOUND_CODE_TTL', kind: 'seconds', default: '600', doc: 'Lifetime of a code sent by SMS or email, and of a code sign-in attempt (at most 600: NIST SP 800-63B-4).' },
  { env: 'KEYBOUND_CODE_DIGITS', kind: 'count', default: '6', doc: 'Digits of a code sent by SMS or email (6 to 10).' },
  { env: 'KEYBOUND_CODE_MAX_FAILURES', kind: 'count', default: '100', doc: 'Consecutive failed codes after which an authenticator is disabled until its holder rebinds it from a passkey session (1 to 100).' },
  { env: 'KEYBOUND_CODE_FREE_FAILURES', kind: 'count', default: '5', doc: 'Code attempts per account and per client address before each further attempt must wait.' },
  { env: 'KEYBOUND_CODE_DELAY_BASE', kind: 'seconds', default: '1', doc: 'First wait after the free attempts; it doubles with each further attempt.' },
  { env: 'KEYBOUND_CODE_DELAY_MAX', kind: 'seconds', default: '900', doc: 'Longest wait between code attempts.' },
  { env: 'KEYBOUND_CODE_MAX_SENDS', kind: 'count', default: '5', doc: 'Codes sent per username and factor within `KEYBOUND_CODE_TTL` (stops message flooding and SMS pumping).' },
  { env: 'KEYBOUND_SMS_PROVIDER', kind: 'enum', default: 'none', values: ['none', 'http', 'console'], doc: '`http`: POST `{"to", "message"}` as JSON to `KEYBOUND_SMS_URL`. `console`: print messages on stdout (development only). `none`: no SMS.' },
  { env: 'KEYBOUND_SMS_URL', kind: 'optional', default: '', doc: 'Where the `http` SMS provider posts: an `https://` URL (`http://` only to a loopback address). Its JSON answer may carry `simChangedAt` (ISO 8601 or epoch milliseconds).' },
  { env: 'KEYBOUND_SMS_TOKEN', kind: 'optional', default: '', doc: 'Bearer token the `http` SMS provider sends, if the gateway wants one.' },
  { env: 'KEYBOUND_SMS_SIM_CHANGE_WINDOW', kind: 'seconds', default: '604800', doc: 'A SIM change reported this recently refuses SMS codes to that number.' },
  { env: 'KEYBOUND_SMTP_URL', kind: 'optional', default: '', doc: 'SMTP server for email codes and security notices, as `smtp://user:pass@host:587` or `smtps://...`. Unset: no email.' },
  { env: 'KEYBOUND_MAIL_FROM', kind: 'string', default: 'Keybound <keybound@localhost>', doc: 'Sender of Keybound\'s email.' },
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
  { env: 'KEYBOUND_KEEP_ALIVE_TIMEOUT', kind: 'seconds', default: '5', doc: 'How long an idle keep-alive connection is held open, as advertised in `Keep-Alive: timeout=`; Node.js closes it one second later, so that a client never sends on a connection the server is closing.' },
  { env: 'KEYBOUND_OIDC_SIGNING_ALG', kind: 'enum', default: 'ES256', values: ['ES256', 'EdDSA', 'PS256'], doc: 'JWS algorithm of the keys that sign ID tokens and JWT access tokens (a key is made on first start; `npx keybound keys rotate-signing` makes the next).' },
  { env: 'KEYBOUND_OIDC_KEY_OVERLAP', kind: 'seconds', default: '86400', doc: 'After a signing-key rotation, how long the old key stays in the JWKS so tokens it signed still verify.' },
  { env: 'KEYBOUND_OIDC_KEY_REFRESH', kind: 'seconds', default: '60', doc: 'How often each instance re-reads the signing keys (a rotation reaches every instance within this time).' },
  { env: 'KEYBOUND_OIDC_RESOURCES', kind: 'list', default: '', doc: 'Resource indicators (RFC 8707) of the APIs clients may ask tokens for, comma-separated absolute URIs; their access tokens are JWTs (RFC 9068).' },
  { env: 'KEYBOUND_OIDC_RESOURCE_SCOPES', kind: 'list', default: 'read,write', doc: 'Scopes a client may ask for at those APIs.' },
  { env: 'KEYBOUND_OIDC_ACCESS_TOKEN_TTL', kind: 'seconds', default: '300', doc: 'Lifetime of an access token. JWT access tokens cannot be revoked, so keep it short.' },
  { env: 'KEYBOUND_OIDC_ID_TOKEN_TTL', kind: 'seconds', default: '600', doc: 'Lifetime of an ID token.' },
  { env: 'KEYBOUND_OIDC_REFRESH_TOKEN_TTL', kind: 'seconds', default: '86400', doc: 'Lifetime of a refresh token (rotated on every use; NIST SP 800-63B-4 asks for reauthentication at AAL2 within 24 hours).' },
  { env: 'KEYBOUND_OIDC_CODE_TTL', kind: 'seconds', default: '60', doc: 'Lifetime of an authorization code (at most 600: OWASP ASVS 5.0 10.4.3).' },
  { env: 'KEYBOUND_OIDC_INTERACTION_TTL', kind: 'seconds', default: '600', doc: 'How long a person has to finish signing in for an application.' },
  { env: 'KEYBOUND_OIDC_ALLOW_SHARED_SECRETS', kind: 'bool', default: 'false', doc: 'Allow `client_secret_basic`/`client_secret_post` client authentication. Off: confidential clients use `private_key_jwt`.' },
  { env: 'KEYBOUND_SHUTDOWN_GRACE', kind: 'seconds', default: '10', doc: 'On SIGTERM, how long requests in flight may take before the server exits anyway.' },
  { env: 'KEYBOUND_CODE_MAX_SENDS_PER_ADDRESS', kind: 'count', default: '20', doc: 'Codes sent to bind a phone number or mailbox per client address (an IPv6 client\'s /64) within `KEYBOUND_CODE_TTL`; above the per-account and per-destination limit (`KEYBOUND_CODE_MAX_SENDS`) because one address can be a whole office.' },
  { env: 'KEYBOUND_ATTESTATION_MDS_ROOT', kind: 'optional', default: '', doc: "PEM file of the FIDO Metadata Service root certificate that `keybound attestation import-mds` verifies BLOBs against when `--root` is not given (download it yourself from the FIDO Alliance site; Keybound fetches nothing)." },
  { env: 'KEYBOUND_METRICS_PORT', kind: 'port', default: '9464', doc: 'Port of a listener of its own that serves only `/metrics` (Prometheus), on `KEYBOUND_METRICS_HOST`; `0` turns it off. The main listener does not serve `/metrics` unless `KEYBOUND_METRICS_TOKEN` is set.' },
  { env: 'KEYBOUND_METRICS_HOST', kind: 'string', default: '127.0.0.1', doc: 'Address the metrics listener binds to (loopback: only this machine can read the metrics).' },
  { env: 'KEYBOUND_METRICS_TOKEN', kind: 'optional', default: '', doc: 'When set, the main listener also serves `/metrics` to requests that send `Authorization: Bearer <this token>` (at least 32 characters).' },
  { env: 'KEYBOUND_OIDC_KEY_LEAD', kind: 'seconds', default: '900', doc: 'After `keys rotate-signing`, how long the next key is published in the JWKS before it signs anything. Longer than the JWKS caches of common verifiers (jose and oauth4webapi keep one up to 10 minutes), so none meets a token signed by a key it has not fetched.' },
  { env: 'KEYBOUND_RATE_LIMIT_OIDC_AUTH', kind: 'count', default: '60', doc: 'Authorization requests (`/oidc/auth`) and pushed authorization requests (`/oidc/request`) allowed per client address per window, like the ceremony limit (each stores a pending sign-in); 0 lifts the limit.' },
  { env: 'KEYBOUND_SESSION_MAX_PER_ACCOUNT', kind: 'count', default: '20', doc: 'Live sessions an account may have at once (OWASP ASVS 7.1.2). A sign-in at the limit ends the least recently used sessions so that it succeeds, each audited as `session.revoked` with reason `session_limit` (a sign-in with codes ends only code sessions); 0: no limit.' },
] as const satisfies readonly KeySpec[];

export type ConfigKey = (typeof CONFIG_KEYS)[number]['env'];
