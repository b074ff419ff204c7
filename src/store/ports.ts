import type { AccountFacts } from '../core/paths/model.ts';
/**
 * The store's ports: what services may ask of the database, and nothing more. Each method is one
 * statement or one small transaction; one-time values are consumed by a single atomic statement.
 */
import type { Account, AccountStatus, Approval, ApprovalKind, ApprovalState, AuditEvent, AuditEventInput, AuditOutcome, Ceremony, Invitation, InvitationKind, Passkey, Role, Session } from '../core/model.ts';
import type { CodeAttempt, CodeAuthenticator, RecoveryCode } from '../core/model.ts';
import type { CodeAuthenticatorKind } from '../codes/factors.ts';
import type { ThrottlePolicy } from '../codes/throttle.ts';

export interface AccountStore {
  /** `false` when the username is taken. */
  create(account: Account): Promise<boolean>;
  findById(id: string): Promise<Account | undefined>;
  findByUsername(username: string): Promise<Account | undefined>;
  findByUserHandle(userHandle: string): Promise<Account | undefined>;
  list(): Promise<Account[]>;
  count(): Promise<number>;
  /** Accounts with role `admin` and status `active` (two-person approval needs two of them). */
  countActiveAdmins(): Promise<number>;
  setStatus(id: string, status: AccountStatus, now: number): Promise<boolean>;
  setRole(id: string, role: Role, now: number): Promise<boolean>;
  /** Changes the email address and/or display name (an absent field stays). */
  update(id: string, changes: { email?: string | null; displayName?: string }, now: number): Promise<boolean>;
  /**
   * Holds an `active` account for the sign-in's transaction and records the sign-in: a sign-in that
   * commits after a suspension or offboarding (which take the row first) finds it not active and
   * rolls back. `null`: not active. Otherwise how many live sessions the account holds (revoked,
   * expired and idle-expired ones not counted), read under the hold: on SQLite in the same statement
   * (the transaction holds SQLite's one write lock, so the count is current), on PostgreSQL in a
   * second one after the row lock (a subquery would read the snapshot taken before the wait and miss
   * a session a racing sign-in just committed). The time is written only when the recorded one is
   * `LAST_SIGN_IN_RESOLUTION_MS` (an hour) old or more, or missing (sql/accounts.ts).
   */
  recordSignIn(id: string, now: number): Promise<{ liveSessions: number } | null>;
  /** Accounts whose username, display name or email contains `query` (case-insensitive), by username, at most `limit`. */
  search(query: string, limit: number): Promise<Account[]>;
  /**
   * Serialises changes to one account (its authenticators, its sessions, its status): holds the
   * account row until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite serialises writers),
   * and reads its status under that hold: `undefined` when there is no such account.
   */
  lock(id: string): Promise<AccountStatus | undefined>;
}

export interface InvitationStore {
  create(invitation: Invitation): Promise<void>;
  find(id: string): Promise<Invitation | undefined>;
  /** Marks the invitation used if it is unused and unexpired; `true` for exactly one caller. */
  consume(id: string, now: number): Promise<boolean>;
  /** Ends every unused invitation of an account (a new link replaces the old), or only those of `kind`; returns how many. */
  revokeForAccount(accountId: string, now: number, kind?: InvitationKind): Promise<number>;
  /** The account's unused, unexpired links, oldest first. */
  listUsable(accountId: string, now: number): Promise<Invitation[]>;
  /** Whether the account has a link that is unused and unexpired at `now`. */
  hasUsable(accountId: string, now: number): Promise<boolean>;
}

export interface PasskeyStore {
  /** `false` when the credential id is already registered. */
  insert(passkey: Passkey): Promise<boolean>;
  findByCredentialId(credentialId: string): Promise<Passkey | undefined>;
  /** The passkey with this credential id and the account that holds it, read together (every passkey sign-in). */
  findWithOwner(credentialId: string): Promise<{ passkey: Passkey; account: Account } | undefined>;
  findById(id: string): Promise<Passkey | undefined>;
  listByAccount(accountId: string): Promise<Passkey[]>;
  /**
   * Records a verified use if the stored sign count is still `expectedSignCount` (compare-and-set),
   * so two racing assertions cannot both move the counter. `true` when recorded.
   */
  recordUse(id: string, use: { expectedSignCount: number; signCount: number; backupState: boolean; now: number }): Promise<boolean>;
  flag(id: string, reason: string): Promise<void>;
  rename(accountId: string, id: string, nickname: string): Promise<boolean>;
  remove(accountId: string, id: string): Promise<boolean>;
  countActive(accountId: string): Promise<number>;
  /** Disables every passkey of the account not yet disabled (offboarding); returns how many. */
  disableForAccount(accountId: string, reason: string): Promise<number>;
}

export interface CeremonyStore {
  create(ceremony: Ceremony): Promise<void>;
  /**
   * The pending ceremony, left pending. Only to decide whether an answer is worth checking: what the
   * ceremony allows is taken by `consume`, in the transaction that acts on it.
   */
  find(challengeHash: string): Promise<Ceremony | undefined>;
  /** Deletes and returns the ceremony: whoever gets it back is the only one who ever will. */
  consume(challengeHash: string): Promise<Ceremony | undefined>;
  purgeExpired(now: number): Promise<number>;
}

export interface SessionStore {
  create(session: Session): Promise<void>;
  findById(id: string): Promise<Session | undefined>;
  /** Moves the idle deadline; only for a live session. */
  touch(id: string, now: number, idleExpiresAt: number): Promise<void>;
  revoke(accountId: string, id: string, now: number): Promise<boolean>;
  revokeAllForAccount(accountId: string, now: number): Promise<number>;
  /** Deletes sessions that ended (expired, idle-expired or revoked) before `before`; returns how many. */
  purgeEnded(before: number): Promise<number>;
  /** Revokes the live sessions a passkey signed in, but `keep`; returns how many. */
  revokeByPasskey(accountId: string, passkeyId: string, now: number, keep: string): Promise<number>;
  listActive(accountId: string, now: number): Promise<Session[]>;
  /** Accounts with at least one live session at `now` (ending everyone's sessions). */
  accountsWithLive(now: number): Promise<string[]>;
  /** How many sessions of the account are live at `now` (what every sign-in asks, for the limit). */
  countActive(accountId: string, now: number): Promise<number>;
  /**
   * Revokes those of `ids` that are the account's and not yet revoked, in one statement; returns
   * the ids it revoked (a session another request ended first is not in it, so it is audited once).
   */
  revokeMany(accountId: string, ids: readonly string[], now: number): Promise<string[]>;
}

export interface AuditStore {
  /** Appends to the hash chain. Inside a transaction the event commits or rolls back with it. */
  append(event: AuditEventInput): Promise<AuditEvent>;
  list(filter: AuditListFilter): Promise<AuditEvent[]>;
  /** Every event in order, for chain verification and export. */
  scan(fromSeq: number, limit: number): Promise<AuditEvent[]>;
  /** Where the chain ends, and the head's anchor MAC (`null` if never anchored). */
  head(): Promise<AuditHead>;
  /**
   * The account's latest `limit` events, newest first, with only what the risk signals read
   * (services/risk/evaluate.ts): on each sign-in a history rule may apply to, so the few fields are
   * taken out of the details without reading or parsing the rest.
   */
  recentForRisk(accountId: string, limit: number): Promise<RiskHistoryEvent[]>;
}

/** An audit event as the risk signals read it: its kind, its time, and four fields of its details. */
export interface RiskHistoryEvent {
  readonly at: number;
  readonly type: string;
  readonly outcome: AuditOutcome;
  readonly reason: string | null;
  /** `details.passkey` when it is a string. */
  readonly passkey: string | null;
  /** `details.risk.device` (a browser family, or null); `undefined` when the event has none. */
  readonly device: string | null | undefined;
  /** The event's user agent, given only when it has no `details.risk.device` to stand for it. */
  readonly userAgent: string | null;
  /** `details.risk.place` (a place, or null); `undefined` when the event has none. */
  readonly place: unknown;
  /** `details.simChangedAt` when it is a string. */
  readonly simChangedAt: string | null;
}

/** Newest first, up to `limit`; every other field narrows. */
export interface AuditListFilter {
  readonly accountId?: string;
  readonly limit: number;
  readonly beforeSeq?: number;
  /** Exactly this type. */
  readonly type?: string;
  /** Types that start with this (`account.`). */
  readonly typePrefix?: string;
  /** At or after this time (epoch ms). */
  readonly since?: number;
}

export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
  readonly mac: string | null;
}

export interface RateLimitStore {
  /** Counts one hit on `key` in the window starting at `windowStart`; returns the count so far. */
  hit(key: string, windowStart: number): Promise<number>;
  purge(olderThan: number): Promise<number>;
}

export interface SettingsStore {
  get(key: string): Promise<string | undefined>;
  /** Stores `value` unless the key exists; returns the value that is stored either way. */
  getOrCreate(key: string, value: string): Promise<string>;
  /** Stores `value`, replacing what was there. */
  put(key: string, value: string): Promise<void>;
}

/** One stored oidc-provider model instance (oidc/adapter.ts). */
export interface OidcPayloadRow {
  readonly model: string;
  /** SHA-256 of the instance id: for codes, tokens and sessions the id is the credential itself. */
  readonly key: string;
  /** JSON of the payload, without its `jti`. */
  readonly payload: string;
  readonly grantId: string | null;
  readonly uid: string | null;
  readonly userCode: string | null;
  readonly accountId: string | null;
  /** Milliseconds; `null` never expires. */
  readonly expiresAt: number | null;
}

export interface StoredOidcPayload {
  readonly payload: string;
  readonly consumedAt: number | null;
}

export interface OidcPayloadStore {
  upsert(row: OidcPayloadRow): Promise<void>;
  /** Inserts unless a live row has the key: `true` for exactly one of any number of racing callers. */
  insertOnce(row: OidcPayloadRow, now: number): Promise<boolean>;
  /** The live (unexpired) row, consumed or not. */
  find(model: string, key: string, now: number): Promise<StoredOidcPayload | undefined>;
  findByUid(model: string, uid: string, now: number): Promise<StoredOidcPayload | undefined>;
  findByUserCode(model: string, userCode: string, now: number): Promise<StoredOidcPayload | undefined>;
  /** Marks the row consumed if it is not yet: `true` for exactly one caller (one atomic statement). */
  consume(model: string, key: string, now: number): Promise<boolean>;
  destroy(model: string, key: string): Promise<void>;
  /** Deletes the model's rows that belong to a grant; returns how many. */
  revokeByGrantId(model: string, grantId: string): Promise<number>;
  /** Deletes every row (any model) that names the account: its sessions, grants, codes and tokens. */
  revokeByAccount(accountId: string): Promise<number>;
  purgeExpired(now: number): Promise<number>;
  /** Deletes the model's rows with this `uid` (a provider session by its uid); returns how many. */
  destroyByUid(model: string, uid: string): Promise<number>;
}

export interface OidcClientRow {
  readonly clientId: string;
  readonly name: string;
  /** Client metadata as oidc-provider reads it; a shared secret in it is sealed. */
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly sharedSecret: boolean;
  readonly createdAt: number;
}

/** A client as the provider loads it (OidcClientStore.findForProvider). */
export interface ProviderClientRow {
  readonly clientId: string;
  /** The metadata column as stored (JSON text); a shared secret in it is sealed. */
  readonly metadataJson: string;
  /** Only for a workload's client. */
  readonly workload: {
    readonly status: MachineStatus;
    readonly ownerStatus: AccountStatus | null;
    /** The keys a rotation replaced (JSON text), if any. */
    readonly previousJwksJson: string | null;
    readonly previousJwksUntil: number | null;
  } | null;
}

export interface OidcClientStore {
  /** `false` when the client id is taken. */
  create(client: OidcClientRow): Promise<boolean>;
  find(clientId: string): Promise<OidcClientRow | undefined>;
  list(): Promise<OidcClientRow[]>;
  /**
   * What the provider reads for each request a client authenticates: the client's stored metadata
   * (as text, so a caller can tell an unchanged row without parsing it) and, for a workload, its gate,
   * in one read.
   */
  findForProvider(clientId: string): Promise<ProviderClientRow | undefined>;
  /** Replaces the client's metadata (`clients update`); `false` when there is no such client. */
  updateMetadata(clientId: string, metadata: Record<string, unknown>): Promise<boolean>;
  delete(clientId: string): Promise<boolean>;
}

export interface SigningKeyRow {
  readonly kid: string;
  readonly alg: string;
  readonly status: 'current' | 'retiring';
  /** The private JWK, sealed with the data keys. */
  readonly privateJwk: string;
  readonly publicJwk: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  readonly retireAt: number | null;
  /** When the key starts signing; `null`: from its creation. Published in the JWKS before then. */
  readonly activateAt: number | null;
}

export interface OidcKeyStore {
  /** Keys that still verify at `now`: the current one first, then retiring ones, newest first. */
  listLive(now: number): Promise<SigningKeyRow[]>;
  /** Inserts `key` as the current key unless there is one: `true` when inserted. */
  insertCurrent(key: SigningKeyRow): Promise<boolean>;
  /** Demotes the current key of `alg` to `retiring` until `retireAt`; returns how many keys changed (0 or 1). */
  retireCurrent(retireAt: number, alg: string): Promise<number>;
  purgeRetired(now: number): Promise<number>;
}

/** A provider grant and the Keybound session it was issued from (oidc/grantSessions.ts). */
export interface GrantSessionRow {
  readonly grantId: string;
  readonly sessionId: string;
  readonly accountId: string;
  readonly passkeyId: string | null;
  /** The provider session (`Session.uid`) the grant's authorization ran in. */
  readonly providerSessionUid: string | null;
  /** `offline_access` was granted: the grant outlives the session, not the passkey or the account's state. */
  readonly offline: boolean;
  readonly createdAt: number;
  /** The client the grant is for, and the `sid` its ID tokens carry (back-channel logout); absent on bindings made before. */
  readonly clientId?: string | null;
  readonly sid?: string | null;
}

/** A logout token to deliver (OpenID Connect Back-Channel Logout 1.0; oidc/backchannel.ts). */
export interface LogoutOutboxRow {
  /** Also the token's `jti`, the same at every attempt. */
  readonly id: string;
  readonly clientId: string;
  readonly accountId: string;
  /** Set when the client asked for `sid` (`backchannel_logout_session_required`). */
  readonly sid: string | null;
  /** The Keybound session that ended, and why. */
  readonly sessionId: string;
  readonly reason: string;
  readonly attempts: number;
  readonly createdAt: number;
  readonly nextAttemptAt: number;
}

export interface OidcLogoutOutboxStore {
  enqueue(rows: readonly LogoutOutboxRow[]): Promise<void>;
  /** Rows due at `now`, soonest first. */
  listDue(now: number, limit: number): Promise<LogoutOutboxRow[]>;
  /**
   * Takes a due row for one attempt: counts the attempt and hides the row until `leaseUntil` (if
   * the sender dies, it is due again then). Compare-and-set on `attempts`, so of any number of
   * instances exactly one wins an attempt. `true` when this caller won.
   */
  claim(id: string, attempts: number, now: number, leaseUntil: number): Promise<boolean>;
  /** The next attempt, after a failed one. */
  reschedule(id: string, at: number): Promise<void>;
  /** Delivered or given up. */
  remove(id: string): Promise<void>;
}

/** An OpenID Shared Signals event stream (SSF 1.0 §8.1.1; src/ssf). */
export type SsfStreamStatus = 'enabled' | 'paused' | 'disabled';

export interface SsfStream {
  /** `stream_id`. */
  readonly id: string;
  /** The OpenID client that created it and alone may see or change it; also the SETs' `aud`. */
  readonly clientId: string;
  /** RFC 8935 push: where SETs are POSTed, and the Authorization header sent with them (SSF §6.1.1), sealed (ssf/streams.ts). */
  readonly endpointUrl: string;
  readonly authorizationHeader: string | null;
  readonly eventsRequested: readonly string[];
  readonly description: string | null;
  readonly status: SsfStreamStatus;
  readonly statusReason: string | null;
  /** Delivery state: SETs delivered and given up, the last success, the last failure and when. */
  readonly delivered: number;
  readonly failed: number;
  readonly lastDeliveredAt: number | null;
  readonly lastFailure: string | null;
  readonly lastFailureAt: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface SsfStreamChanges {
  readonly endpointUrl?: string;
  readonly authorizationHeader?: string | null;
  readonly eventsRequested?: readonly string[];
  readonly description?: string | null;
  readonly status?: SsfStreamStatus;
  readonly statusReason?: string | null;
}

export interface SsfStreamStore {
  create(stream: SsfStream): Promise<void>;
  /** The client's own stream; another client's is not found. */
  find(clientId: string, id: string): Promise<SsfStream | undefined>;
  findById(id: string): Promise<SsfStream | undefined>;
  listByClient(clientId: string): Promise<SsfStream[]>;
  update(clientId: string, id: string, changes: SsfStreamChanges, now: number): Promise<boolean>;
  /** Deletes the stream, its subjects and the SETs still owed to it. */
  delete(clientId: string, id: string): Promise<boolean>;
  /** Idempotent. */
  addSubject(streamId: string, accountId: string, now: number): Promise<void>;
  removeSubject(streamId: string, accountId: string): Promise<boolean>;
  /** Streams an event about this account goes to: not disabled, and without subjects or with it among them (SSF §8.1.3). */
  listForSubject(accountId: string): Promise<SsfStream[]>;
  /** Counts one delivery outcome on the stream. */
  recordOutcome(id: string, outcome: { readonly delivered: boolean; readonly reason?: string; readonly at: number }): Promise<void>;
  /** SETs still owed to the stream. */
  pending(id: string): Promise<number>;
}

/** A Security Event Token owed to one stream (src/ssf/dispatch.ts). */
export interface SsfOutboxRow {
  /** Also the SET's `jti`, the same at every attempt. */
  readonly id: string;
  readonly streamId: string;
  readonly eventType: string;
  /** The subject (`null`: the stream itself, for verification) and the event's members. */
  readonly payload: { readonly accountId: string | null; readonly event: Readonly<Record<string, unknown>> };
  /** SSF §4.1.7 `txn`: the same for every SET one change caused. */
  readonly txn: string;
  readonly attempts: number;
  readonly createdAt: number;
  readonly nextAttemptAt: number;
}

/** The outbox operations a dispatcher needs (oidc/outbox.ts); the logout and SSF outboxes both have them. */
export interface OutboxPort<Row> {
  /** Rows due at `now`, soonest first. */
  listDue(now: number, limit: number): Promise<Row[]>;
  /** Compare-and-set on `attempts`: of any number of instances exactly one wins an attempt. */
  claim(id: string, attempts: number, now: number, leaseUntil: number): Promise<boolean>;
  reschedule(id: string, at: number): Promise<void>;
  remove(id: string): Promise<void>;
}

export interface SsfOutboxStore extends OutboxPort<SsfOutboxRow> {
  enqueue(rows: readonly SsfOutboxRow[]): Promise<void>;
  /** Drops every SET still owed to the stream (it was disabled). */
  dropStream(streamId: string): Promise<number>;
  // listDue returns rows of enabled streams only: a paused stream's SETs wait (SSF §8.1.2.1).
}

export interface OidcGrantSessionStore {
  /** Records the binding (idempotent). */
  bind(row: GrantSessionRow): Promise<void>;
  findByGrant(grantId: string): Promise<GrantSessionRow[]>;
  /** Bindings of these Keybound sessions (offline ones too; the caller decides). */
  findBySessions(sessionIds: readonly string[]): Promise<GrantSessionRow[]>;
  findByPasskey(passkeyId: string): Promise<GrantSessionRow[]>;
  findByAccount(accountId: string): Promise<GrantSessionRow[]>;
  /** Forgets every binding of these grants; returns how many rows. */
  forgetGrants(grantIds: readonly string[]): Promise<number>;
  /** Moves the bindings of one Keybound session to another (a sign-in that replaced it); returns how many rows. */
  moveSession(fromSessionId: string, toSessionId: string): Promise<number>;
  /** Accounts with at least one bound grant (ending everyone's grants). */
  accounts(): Promise<string[]>;
  /** Deletes the bindings whose grant no longer exists (housekeeping). */
  purgeOrphans(): Promise<number>;
}

/** One-time-code authenticators. Failure counting is atomic: a guess is reserved before it is checked. */
export interface AuthenticatorStore {
  insert(authenticator: CodeAuthenticator): Promise<void>;
  findById(id: string): Promise<CodeAuthenticator | undefined>;
  /** The bound (active or disabled) authenticator of a kind, if the account has one. */
  findBound(accountId: string, kind: CodeAuthenticatorKind): Promise<CodeAuthenticator | undefined>;
  /** Bound authenticators of the account, oldest first. */
  listBound(accountId: string): Promise<CodeAuthenticator[]>;
  /** The newest authenticator of a kind waiting for its first code. */
  findPending(accountId: string, kind: CodeAuthenticatorKind): Promise<CodeAuthenticator | undefined>;
  /** Forgets unconfirmed set-ups of a kind (a new set-up replaces them). */
  removePending(accountId: string, kind: CodeAuthenticatorKind): Promise<number>;
  /**
   * Counts one failure in advance if the authenticator is usable (active, or pending confirmation)
   * and has fewer than `limit` consecutive failures: one atomic statement, so any number of racing
   * guesses reserve at most `limit`. Returns the new count, or `null` when no guess may be checked.
   */
  reserveGuess(id: string, limit: number): Promise<number | null>;
  /** Disables the authenticator if it reached `limit` failures: `true` for exactly one caller. */
  disableIfExhausted(id: string, limit: number, reason: string): Promise<boolean>;
  /**
   * Records an accepted code: clears the failure count, and for TOTP moves the last accepted step
   * forward with a compare-and-set (`false` when that step or a later one was already used).
   */
  recordUse(id: string, use: { now: number; step?: number }): Promise<boolean>;
  /** Makes the pending authenticator `id` the bound one of its kind, replacing the previous one. */
  bind(id: string, use: { now: number; step?: number }): Promise<boolean>;
  remove(accountId: string, id: string): Promise<boolean>;
  /** Replaces the sealed secret (a TOTP seed sealed again under the current data key). */
  reseal(id: string, sealed: string): Promise<void>;
  /** Disables the account's active and pending authenticators of these kinds; returns those it disabled. */
  disableKinds(accountId: string, kinds: readonly CodeAuthenticatorKind[], reason: string): Promise<{ id: string; kind: CodeAuthenticatorKind }[]>;
  /** Disables every active or pending authenticator of the account (offboarding); returns how many. */
  disableForAccount(accountId: string, reason: string): Promise<number>;
}

export interface CodeAttemptStore {
  create(attempt: CodeAttempt): Promise<void>;
  find(idHash: string): Promise<CodeAttempt | undefined>;
  /** Marks the attempt used if it is unused and unexpired: `true` for exactly one caller. */
  consume(idHash: string, now: number): Promise<boolean>;
  purgeExpired(now: number): Promise<number>;
  /** Ends the account's unconsumed, unexpired attempts (a code already sent stops counting); returns how many. */
  expireForAccount(accountId: string, now: number): Promise<number>;
}

export interface RecoveryCodeStore {
  insertSet(authenticatorId: string, codes: readonly { id: string; codeHash: string }[]): Promise<void>;
  findUnused(authenticatorId: string, codeHash: string): Promise<RecoveryCode | undefined>;
  /** Marks the code used if it is not yet: `true` for exactly one caller. */
  markUsed(id: string, now: number): Promise<boolean>;
  countUnused(authenticatorId: string): Promise<number>;
}

export type ThrottleAdmission = { readonly admitted: true; readonly failures: number } | { readonly admitted: false; readonly blockedUntil: number };

/** Increasing delays after failures (codes/throttle.ts), applied in one atomic statement. */
export interface CodeThrottleStore {
  /** Admits one attempt on `key` unless it must wait; an admitted attempt counts as a failure until `reset`. */
  admit(key: string, now: number, policy: ThrottlePolicy): Promise<ThrottleAdmission>;
  reset(key: string): Promise<void>;
  /**
   * Takes back the one attempt a right code was admitted with. For a shared key (a client address,
   * which a whole office may share behind NAT) successes must not add up to a delay; a reset would
   * also wipe the failures of others.
   */
  forgive(key: string): Promise<void>;
  purge(olderThan: number): Promise<number>;
}

/** One authenticator model of an imported FIDO metadata BLOB (MDS3 `MetadataBLOBPayloadEntry`). */
export interface AttestationMetadataEntry {
  /** Lower-case 8-4-4-4-12. */
  readonly aaguid: string;
  readonly description: string;
  /** The statement's `attestationRootCertificates`: base64 DER, as in the BLOB. */
  readonly rootCertificates: readonly string[];
  readonly statusReports: readonly { readonly status: string; readonly effectiveDate?: string }[];
  /** The BLOB's serial number and `nextUpdate` (YYYY-MM-DD). */
  readonly blobNo: number;
  readonly nextUpdate: string;
}

export interface AttestationMetadataBlob {
  readonly no: number;
  readonly nextUpdate: string;
  readonly importedAt: number;
  readonly entries: number;
}

/** Imported FIDO metadata, read when a passkey is registered. */
export interface AttestationMetadataStore {
  /**
   * Replaces every entry with those of a newer BLOB, atomically. `false`, changing nothing, when a
   * BLOB with the same or a higher `no` was imported (MDS3 §3.1.8: "ignore the file if its number
   * (no) is less or equal to the number of the last BLOB cached locally").
   */
  replace(blob: AttestationMetadataBlob, entries: readonly AttestationMetadataEntry[]): Promise<boolean>;
  find(aaguid: string): Promise<AttestationMetadataEntry | undefined>;
  /** The BLOB imported last, if any. */
  current(): Promise<AttestationMetadataBlob | undefined>;
}

/** Reads for takeover-path analysis (core/paths), a page of accounts at a time. */
export interface PathFactStore {
  /** Accounts in username order after `after` (null: from the first), at most `limit`. */
  page(after: string | null, limit: number): Promise<Account[]>;
  /** What path analysis needs of each of these accounts, in their order. */
  load(accounts: readonly Account[], now: number): Promise<AccountFacts[]>;
  countActiveAdmins(): Promise<number>;
}

export interface ImportedAccount {
  readonly accountId: string;
  readonly source: 'keycloak' | 'csv';
  readonly externalId: string | null;
  /** PHC string of the old password; null once a passkey was bound (or none was imported). */
  readonly passwordHash: string | null;
  /** E.164 number the old system held; stored only, never a verified SMS factor. */
  readonly phone: string | null;
  readonly importedAt: number;
  readonly passwordRemovedAt: number | null;
}

/** One role's move to passkeys (`keybound adoption`). */
export interface AdoptionCounts {
  readonly role: string;
  /** Active accounts with at least one active passkey. */
  readonly enrolled: number;
  /** Invited or active accounts without an active passkey. */
  readonly pending: number;
  /** Of `pending`, those imported from another system. */
  readonly imported: number;
}

export interface ImportStore {
  insert(row: ImportedAccount): Promise<void>;
  find(accountId: string): Promise<ImportedAccount | undefined>;
  /** Deletes the old password hash (a passkey was bound); `true` if there was one. */
  removePassword(accountId: string, now: number): Promise<boolean>;
  /** Per role: enrolled and pending accounts (suspended and offboarded ones are not counted). */
  adoption(): Promise<AdoptionCounts[]>;
}

/** What SCIM keeps of an account beyond its row (migration 022). */
export interface ScimUserFields {
  readonly externalId: string | null;
  readonly givenName: string | null;
  readonly familyName: string | null;
}

/** An account as SCIM sees it: the account, its SCIM fields, and what its ETag is made of. */
export interface ScimUserRecord extends ScimUserFields {
  readonly account: Account;
  readonly version: number;
  /** The later of the account row's and the SCIM row's last change. */
  readonly updatedAt: number;
}

/** Which accounts a SCIM list asks for: each given field must equal (userName, email case-insensitively). */
export interface ScimUserQuery {
  readonly userName?: string;
  readonly email?: string;
  readonly externalId?: string;
  /** 0-based. */
  readonly offset: number;
  readonly limit: number;
}

export interface ScimStore {
  /** The account with its SCIM fields; offboarded accounts are gone for SCIM (RFC 7644 §3.6). */
  find(accountId: string): Promise<ScimUserRecord | undefined>;
  /** Matching accounts (offboarded ones left out) by username, and how many match in all. */
  list(query: ScimUserQuery): Promise<{ total: number; records: ScimUserRecord[] }>;
  /** Writes the SCIM fields given (an absent one stays) and counts the version up. */
  save(accountId: string, fields: Partial<ScimUserFields>, now: number): Promise<void>;
  /**
   * Counts the version up from `version` only if it is still `version` (0: no SCIM row yet): the
   * compare-and-set behind If-Match, `true` for exactly one of writers racing from one version.
   */
  claimVersion(accountId: string, version: number, now: number): Promise<boolean>;
  /** Counts the version up (a change made through the account itself). */
  touch(accountId: string, now: number): Promise<void>;
  /** Live accounts of a role, by username (a group's members). */
  membersOf(role: string, limit: number): Promise<Account[]>;
}

export interface AdoptionReminderStore {
  /**
   * Invited or active accounts of `role` that were imported, have no active passkey and an email
   * address, and whose reminder for `daysBefore` is not claimed yet; by username, at most `limit`.
   */
  pending(role: string, daysBefore: number, limit: number): Promise<Account[]>;
  /** Whether the reminder for this step was already claimed. */
  claimed(accountId: string, daysBefore: number): Promise<boolean>;
  /** Claims the reminder of this step for this account: `true` for exactly one caller, ever. */
  claim(accountId: string, daysBefore: number, now: number): Promise<boolean>;
  markSent(accountId: string, daysBefore: number, now: number): Promise<void>;
}

/** Two-person approvals (migration 014); every change of state is a conditional UPDATE. */
export interface ApprovalStore {
  create(approval: Approval): Promise<void>;
  find(id: string): Promise<Approval | undefined>;
  /** The recovery whose enrolment link this is. */
  findByInvitation(invitationId: string): Promise<Approval | undefined>;
  /** Newest first. */
  list(filter: { kind?: ApprovalKind; states?: readonly ApprovalState[]; accountId?: string; limit: number }): Promise<Approval[]>;
  /** awaiting_approval -> approved; false when it was not awaiting approval (already approved, cancelled). */
  approve(id: string, input: { approvedBy: string; approverId: string | null; at: number; releaseAt: number | null }): Promise<boolean>;
  /** approved -> applied (a role change). */
  markApplied(id: string, at: number): Promise<boolean>;
  /** approved and released -> linked, once. */
  markLinked(id: string, input: { invitationId: string; at: number }): Promise<boolean>;
  /** Claims the release notice of a released recovery, once. */
  markReleaseNoticed(id: string, at: number): Promise<boolean>;
  /** -> cancelled, from one of `from`. */
  cancel(id: string, input: { by: string; at: number; from: readonly ApprovalState[] }): Promise<boolean>;
  /** Every pending (awaiting approval or approved) request for the account -> cancelled; the count. */
  cancelForAccount(accountId: string, input: { by: string; at: number }): Promise<number>;
}

export type WorkloadKind = 'service' | 'agent';
export type MachineStatus = 'active' | 'disabled';

/** A service or agent (src/services/nhi/workloads.ts); its keys and policy live in its OpenID client. */
export interface WorkloadRow {
  readonly clientId: string;
  readonly name: string;
  readonly ownerId: string;
  readonly kind: WorkloadKind;
  readonly status: MachineStatus;
  readonly disabledReason: string | null;
  readonly tokenTtlS: number;
  /** Keys a rotation replaced, valid until `previousJwksUntil` (epoch ms). */
  readonly previousJwks: { readonly keys: readonly Record<string, unknown>[] } | null;
  readonly previousJwksUntil: number | null;
  readonly keysRotatedAt: number | null;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
}

/** What the provider asks for every client it loads: whether the workload may have tokens, and its overlap keys. */
export interface WorkloadGate {
  readonly status: MachineStatus;
  readonly ownerStatus: AccountStatus | null;
  readonly previousJwks: { readonly keys: readonly Record<string, unknown>[] } | null;
  readonly previousJwksUntil: number | null;
}

export interface WorkloadStore {
  create(row: WorkloadRow): Promise<void>;
  find(clientId: string): Promise<WorkloadRow | undefined>;
  /** `undefined` for a client that is not a workload. */
  gate(clientId: string): Promise<WorkloadGate | undefined>;
  list(filter?: { ownerId?: string }): Promise<WorkloadRow[]>;
  /** Sets the status (and reason); `false` when there is no such workload. */
  setStatus(clientId: string, status: MachineStatus, reason: string | null): Promise<boolean>;
  setOwner(clientId: string, ownerId: string): Promise<boolean>;
  /** Records the keys a rotation replaced and until when they stay valid. */
  recordRotation(clientId: string, previous: { keys: readonly Record<string, unknown>[] } | null, until: number | null, at: number): Promise<boolean>;
  recordUse(clientId: string, at: number): Promise<void>;
  /** Disables every active workload of the owner; returns their client ids. */
  disableForOwner(ownerId: string, reason: string): Promise<string[]>;
  /** Moves every workload of one owner to another; returns their client ids. */
  transferOwner(fromOwnerId: string, toOwnerId: string): Promise<string[]>;
}

export interface ApiKeyRow {
  readonly id: string;
  /** SHA-256 of the whole key (core/tokens.ts `hashSecret`). */
  readonly keyHash: string;
  readonly ownerId: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly status: 'active' | 'revoked';
  readonly revokedReason: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  readonly lastUsedAt: number | null;
  readonly replacedBy: string | null;
}

export interface ApiKeyStore {
  create(row: ApiKeyRow): Promise<void>;
  find(id: string): Promise<ApiKeyRow | undefined>;
  findByHash(keyHash: string): Promise<(ApiKeyRow & { readonly ownerStatus: AccountStatus | null }) | undefined>;
  list(filter?: { ownerId?: string }): Promise<ApiKeyRow[]>;
  /** Revokes the key if it is active: `true` for exactly one caller. */
  revoke(id: string, reason: string, at: number): Promise<boolean>;
  /** Ends the key at `expiresAt` (if that is sooner) and records its successor. */
  supersede(id: string, replacedBy: string, expiresAt: number): Promise<boolean>;
  recordUse(id: string, at: number): Promise<void>;
  /** Revokes every active key of the owner; returns how many. */
  revokeForOwner(ownerId: string, reason: string, at: number): Promise<number>;
  transferOwner(fromOwnerId: string, toOwnerId: string): Promise<number>;
}

/** Successful sign-ins of one day (epoch day), method and level: the posture dashboard's raw figures. */
export interface SignInTally {
  readonly day: number;
  readonly method: string;
  readonly acr: string;
  readonly count: number;
}

/** Active accounts of a role, and how many of them hold each kind of active factor. */
export interface FactorHolders {
  readonly role: string;
  readonly accounts: number;
  /** `passkey_device_bound`, `passkey_syncable`, and each code factor kind (`totp`, `sms_code`, ...). */
  readonly factors: Readonly<Record<string, number>>;
}

export interface CredentialFacts {
  /** Active admins with passkeys, none of them device-bound. */
  readonly adminsOnlySyncable: number;
  /** Active accounts without any active passkey. */
  readonly activeWithoutPasskey: number;
  readonly passkeysWithoutUv: number;
  readonly passkeys: number;
  readonly passkeysTrusted: number;
  /** Active admins whose last sign-in is older than `signedInSince`, or who never signed in. */
  readonly adminsNotSignedInSince: number;
  /** Suspended or offboarded accounts that still have a live session (offboarding should leave none). */
  readonly endedWithLiveSessions: number;
  /** Shared Signals streams that are enabled (docs/shared-signals.md). */
  readonly enabledStreams: number;
}

/** Aggregates for the posture dashboard and the standards report (issue 16); counted by the database. */
export interface PostureStore {
  /** Successful sign-ins (recovery sessions apart) with `since <= at < until`, grouped by day, method and acr. */
  signInsByDay(since: number, until: number): Promise<SignInTally[]>;
  factorHolders(): Promise<FactorHolders[]>;
  /** Active accounts whose first passkey came before `since`, and those whose first came on each day after. */
  firstPasskeys(since: number): Promise<{ before: number; byDay: { day: number; accounts: number }[] }>;
  credentialFacts(input: { signedInSince: number; now: number }): Promise<CredentialFacts>;
}

/** A person's delegation to an agent workload (services/nhi/delegations.ts, oidc/tokenExchange.ts). */
export interface DelegationRow {
  readonly id: string;
  readonly accountId: string;
  /** The agent workload's client id. */
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  readonly revokedReason: string | null;
  readonly lastUsedAt: number | null;
}

export interface DelegationStore {
  create(row: DelegationRow): Promise<void>;
  find(id: string): Promise<DelegationRow | undefined>;
  /** The account's delegations, newest first (live, expired and revoked). */
  listByAccount(accountId: string): Promise<DelegationRow[]>;
  /** Every delegation neither revoked nor expired at `now`, oldest first (`nhi report`). */
  listLive(now: number): Promise<DelegationRow[]>;
  /** The newest delegation of the account to this agent that is neither revoked nor expired at `now`. */
  findLive(accountId: string, clientId: string, now: number): Promise<DelegationRow | undefined>;
  /** Revokes it if it is the account's and live at `at`: `true` for exactly one caller. */
  revoke(id: string, accountId: string, reason: string, at: number): Promise<boolean>;
  /** Revokes every live delegation of the account to this agent (a new grant replaces them); returns how many. */
  revokeForAgent(accountId: string, clientId: string, reason: string, at: number): Promise<number>;
  /** Revokes every live delegation of the account (suspension, offboarding); returns how many. */
  revokeForAccount(accountId: string, reason: string, at: number): Promise<number>;
  recordUse(id: string, at: number): Promise<void>;
}

export interface Store {
  readonly accounts: AccountStore;
  readonly pathFacts: PathFactStore;
  readonly approvals: ApprovalStore;
  readonly invitations: InvitationStore;
  readonly passkeys: PasskeyStore;
  readonly ceremonies: CeremonyStore;
  readonly sessions: SessionStore;
  readonly audit: AuditStore;
  readonly rateLimits: RateLimitStore;
  readonly settings: SettingsStore;
  readonly oidcPayloads: OidcPayloadStore;
  readonly oidcClients: OidcClientStore;
  readonly oidcKeys: OidcKeyStore;
  readonly authenticators: AuthenticatorStore;
  readonly codeAttempts: CodeAttemptStore;
  readonly recoveryCodes: RecoveryCodeStore;
  readonly codeThrottles: CodeThrottleStore;
  readonly attestationMetadata: AttestationMetadataStore;
  readonly oidcGrantSessions: OidcGrantSessionStore;
  readonly oidcLogoutOutbox: OidcLogoutOutboxStore;
  readonly workloads: WorkloadStore;
  readonly apiKeys: ApiKeyStore;
  readonly delegations: DelegationStore;
  readonly ssfStreams: SsfStreamStore;
  readonly ssfOutbox: SsfOutboxStore;
  readonly imports: ImportStore;
  readonly posture: PostureStore;
  readonly scim: ScimStore;
  readonly adoptionReminders: AdoptionReminderStore;
  /** Runs `work` in one transaction; the `Store` it gets writes inside it. */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
  /** Cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  /** Highest migration applied (0 on an empty database). */
  schemaVersion(): Promise<number>;
}
