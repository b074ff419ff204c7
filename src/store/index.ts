import { sql, type Kysely, type Transaction } from 'kysely';
import type { AuditAnchorKey } from '../core/audit/anchor.ts';
import type { Db } from './db.ts';
import { currentVersion } from './migrate.ts';
import type { Store } from './ports.ts';
import type { Database } from './schema.ts';
import { SqlAccountStore } from './sql/accounts.ts';
import { SqlApprovalStore } from './sql/approvals.ts';
import { SqlAuditStore, type AuditHeadGuess } from './sql/audit.ts';
import { SqlCeremonyStore } from './sql/ceremonies.ts';
import { SqlInvitationStore } from './sql/invitations.ts';
import { SqlPasskeyStore } from './sql/passkeys.ts';
import { SqlRateLimitStore } from './sql/rateLimits.ts';
import { SqlSessionStore } from './sql/sessions.ts';
import { SqlSettingsStore } from './sql/settings.ts';
import { SqlOidcClientStore } from './sql/oidcClients.ts';
import { SqlOidcKeyStore } from './sql/oidcKeys.ts';
import { SqlOidcPayloadStore } from './sql/oidcPayloads.ts';
import { SqlOidcGrantSessionStore } from './sql/oidcGrantSessions.ts';
import { SqlOidcLogoutOutboxStore } from './sql/oidcLogoutOutbox.ts';
import { SqlSsfOutboxStore, SqlSsfStreamStore } from './sql/ssf.ts';
import { SqlAuthenticatorStore } from './sql/authenticators.ts';
import { SqlCodeAttemptStore } from './sql/codeAttempts.ts';
import { SqlCodeThrottleStore } from './sql/codeThrottles.ts';
import { SqlRecoveryCodeStore } from './sql/recoveryCodes.ts';
import { SqlAttestationMetadataStore } from './sql/attestationMetadata.ts';
import { SqlWorkloadStore } from './sql/workloads.ts';
import { SqlApiKeyStore } from './sql/apiKeys.ts';
import { SqlDelegationStore } from './sql/delegations.ts';
import { SqlPathFactStore } from './sql/pathFacts.ts';
import { SqlImportStore } from './sql/imports.ts';
import { SqlPostureStore } from './sql/posture.ts';
import { SqlAdoptionReminderStore, SqlScimStore } from './sql/scim.ts';

export type { Store } from './ports.ts';

export interface StoreOptions {
  /** Anchors the audit chain under a data key (core/audit/anchor.ts); without it events are chained only. */
  readonly auditAnchor?: AuditAnchorKey;
}

/** Builds the store over an open database. */
export function createStore(db: Db, options: StoreOptions = {}): Store {
  return new SqlStore(db, db.kysely, null, options, { current: null });
}

/**
 * The store over one connection or one transaction. Each table's store is made when first used:
 * a transaction (every sign-in is one) touches a few of the tables, and making all of them for
 * each would allocate some thirty objects per transaction for nothing. The fields are `declare`d,
 * so a new store does not define thirty of them as `undefined` either.
 */
class SqlStore implements Store {
  declare private _accounts: SqlAccountStore | undefined;
  declare private _pathFacts: SqlPathFactStore | undefined;
  declare private _invitations: SqlInvitationStore | undefined;
  declare private _approvals: SqlApprovalStore | undefined;
  declare private _passkeys: SqlPasskeyStore | undefined;
  declare private _ceremonies: SqlCeremonyStore | undefined;
  declare private _sessions: SqlSessionStore | undefined;
  declare private _audit: SqlAuditStore | undefined;
  declare private _rateLimits: SqlRateLimitStore | undefined;
  declare private _settings: SqlSettingsStore | undefined;
  declare private _oidcPayloads: SqlOidcPayloadStore | undefined;
  declare private _oidcClients: SqlOidcClientStore | undefined;
  declare private _oidcKeys: SqlOidcKeyStore | undefined;
  declare private _authenticators: SqlAuthenticatorStore | undefined;
  declare private _codeAttempts: SqlCodeAttemptStore | undefined;
  declare private _recoveryCodes: SqlRecoveryCodeStore | undefined;
  declare private _codeThrottles: SqlCodeThrottleStore | undefined;
  declare private _attestationMetadata: SqlAttestationMetadataStore | undefined;
  declare private _oidcGrantSessions: SqlOidcGrantSessionStore | undefined;
  declare private _oidcLogoutOutbox: SqlOidcLogoutOutboxStore | undefined;
  declare private _workloads: SqlWorkloadStore | undefined;
  declare private _apiKeys: SqlApiKeyStore | undefined;
  declare private _delegations: SqlDelegationStore | undefined;
  declare private _ssfStreams: SqlSsfStreamStore | undefined;
  declare private _ssfOutbox: SqlSsfOutboxStore | undefined;
  declare private _imports: SqlImportStore | undefined;
  declare private _posture: SqlPostureStore | undefined;
  declare private _scim: SqlScimStore | undefined;
  declare private _adoptionReminders: SqlAdoptionReminderStore | undefined;

  constructor(
    private readonly db: Db,
    private readonly k: Kysely<Database>,
    private readonly tx: Transaction<Database> | null,
    private readonly options: StoreOptions,
    /** Shared by this store and the transaction stores made from it (sql/audit.ts). */
    private readonly auditHead: AuditHeadGuess,
  ) {}

  /** Runs work in a transaction when this store is not already inside one (the audit chain's appends). */
  private inTransaction<T>(work: (k: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.tx ? work(this.tx) : this.db.kysely.transaction().execute((t) => work(t));
  }

  get accounts(): SqlAccountStore {
    return (this._accounts ??= new SqlAccountStore(this.k, this.db.dialect));
  }

  get pathFacts(): SqlPathFactStore {
    return (this._pathFacts ??= new SqlPathFactStore(this.k));
  }

  get invitations(): SqlInvitationStore {
    return (this._invitations ??= new SqlInvitationStore(this.k));
  }

  get approvals(): SqlApprovalStore {
    return (this._approvals ??= new SqlApprovalStore(this.k));
  }

  get passkeys(): SqlPasskeyStore {
    return (this._passkeys ??= new SqlPasskeyStore(this.k));
  }

  get ceremonies(): SqlCeremonyStore {
    return (this._ceremonies ??= new SqlCeremonyStore(this.k));
  }

  get sessions(): SqlSessionStore {
    return (this._sessions ??= new SqlSessionStore(this.k));
  }

  get audit(): SqlAuditStore {
    return (this._audit ??= new SqlAuditStore(this.k, this.db.dialect, (work) => this.inTransaction(work), this.options.auditAnchor ?? null, this.auditHead));
  }

  get rateLimits(): SqlRateLimitStore {
    return (this._rateLimits ??= new SqlRateLimitStore(this.k));
  }

  get settings(): SqlSettingsStore {
    return (this._settings ??= new SqlSettingsStore(this.k));
  }

  get oidcPayloads(): SqlOidcPayloadStore {
    return (this._oidcPayloads ??= new SqlOidcPayloadStore(this.k));
  }

  get oidcClients(): SqlOidcClientStore {
    return (this._oidcClients ??= new SqlOidcClientStore(this.k));
  }

  get oidcKeys(): SqlOidcKeyStore {
    return (this._oidcKeys ??= new SqlOidcKeyStore(this.k));
  }

  get authenticators(): SqlAuthenticatorStore {
    return (this._authenticators ??= new SqlAuthenticatorStore(this.k));
  }

  get codeAttempts(): SqlCodeAttemptStore {
    return (this._codeAttempts ??= new SqlCodeAttemptStore(this.k));
  }

  get recoveryCodes(): SqlRecoveryCodeStore {
    return (this._recoveryCodes ??= new SqlRecoveryCodeStore(this.k));
  }

  get codeThrottles(): SqlCodeThrottleStore {
    return (this._codeThrottles ??= new SqlCodeThrottleStore(this.k));
  }

  get attestationMetadata(): SqlAttestationMetadataStore {
    return (this._attestationMetadata ??= new SqlAttestationMetadataStore(this.k, (work) => this.inTransaction(work)));
  }

  get oidcGrantSessions(): SqlOidcGrantSessionStore {
    return (this._oidcGrantSessions ??= new SqlOidcGrantSessionStore(this.k));
  }

  get oidcLogoutOutbox(): SqlOidcLogoutOutboxStore {
    return (this._oidcLogoutOutbox ??= new SqlOidcLogoutOutboxStore(this.k));
  }

  get workloads(): SqlWorkloadStore {
    return (this._workloads ??= new SqlWorkloadStore(this.k));
  }

  get apiKeys(): SqlApiKeyStore {
    return (this._apiKeys ??= new SqlApiKeyStore(this.k));
  }

  get delegations(): SqlDelegationStore {
    return (this._delegations ??= new SqlDelegationStore(this.k));
  }

  get ssfStreams(): SqlSsfStreamStore {
    return (this._ssfStreams ??= new SqlSsfStreamStore(this.k));
  }

  get ssfOutbox(): SqlSsfOutboxStore {
    return (this._ssfOutbox ??= new SqlSsfOutboxStore(this.k));
  }

  get imports(): SqlImportStore {
    return (this._imports ??= new SqlImportStore(this.k));
  }

  get posture(): SqlPostureStore {
    return (this._posture ??= new SqlPostureStore(this.k, this.db.dialect));
  }

  get scim(): SqlScimStore {
    return (this._scim ??= new SqlScimStore(this.k));
  }

  get adoptionReminders(): SqlAdoptionReminderStore {
    return (this._adoptionReminders ??= new SqlAdoptionReminderStore(this.k));
  }

  transaction<T>(work: (store: Store) => Promise<T>): Promise<T> {
    return this.tx ? work(this) : this.db.kysely.transaction().execute((t) => work(new SqlStore(this.db, t, t, this.options, this.auditHead)));
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.k);
  }

  schemaVersion(): Promise<number> {
    return currentVersion(this.db);
  }
}
