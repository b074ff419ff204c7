/**
 * The store's ports: what services may ask of the database, and nothing more. Each method is one
 * statement or one small transaction; one-time values are consumed by a single atomic statement.
 */
import type { Account, AccountStatus, AuditEvent, AuditEventInput, Ceremony, Invitation, Passkey, Role, Session } from '../core/model.ts';

export interface AccountStore {
  /** `false` when the username is taken. */
  create(account: Account): Promise<boolean>;
  findById(id: string): Promise<Account | undefined>;
  findByUsername(username: string): Promise<Account | undefined>;
  findByUserHandle(userHandle: string): Promise<Account | undefined>;
  list(): Promise<Account[]>;
  count(): Promise<number>;
  setStatus(id: string, status: AccountStatus, now: number): Promise<boolean>;
  setRole(id: string, role: Role, now: number): Promise<boolean>;
  /** Serialises changes to one account's authenticators until the transaction ends (PostgreSQL row lock). */
  lock(id: string): Promise<void>;
}

export interface InvitationStore {
  create(invitation: Invitation): Promise<void>;
  find(id: string): Promise<Invitation | undefined>;
  /** Marks the invitation used if it is unused and unexpired; `true` for exactly one caller. */
  consume(id: string, now: number): Promise<boolean>;
  /** Ends every unused invitation of an account (a new link replaces the old). */
  revokeForAccount(accountId: string, now: number): Promise<void>;
}

export interface PasskeyStore {
  /** `false` when the credential id is already registered. */
  insert(passkey: Passkey): Promise<boolean>;
  findByCredentialId(credentialId: string): Promise<Passkey | undefined>;
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
}

export interface CeremonyStore {
  create(ceremony: Ceremony): Promise<void>;
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
  listActive(accountId: string, now: number): Promise<Session[]>;
}

export interface AuditStore {
  /** Appends to the hash chain. Inside a transaction the event commits or rolls back with it. */
  append(event: AuditEventInput): Promise<AuditEvent>;
  list(filter: { accountId?: string; limit: number; beforeSeq?: number }): Promise<AuditEvent[]>;
  /** Every event in order, for chain verification and export. */
  scan(fromSeq: number, limit: number): Promise<AuditEvent[]>;
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
}

export interface Store {
  readonly accounts: AccountStore;
  readonly invitations: InvitationStore;
  readonly passkeys: PasskeyStore;
  readonly ceremonies: CeremonyStore;
  readonly sessions: SessionStore;
  readonly audit: AuditStore;
  readonly rateLimits: RateLimitStore;
  readonly settings: SettingsStore;
  /** Runs `work` in one transaction; the `Store` it gets writes inside it. */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
  /** Cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  /** Highest migration applied (0 on an empty database). */
  schemaVersion(): Promise<number>;
}
