import { sql, type Kysely, type Transaction } from 'kysely';
import type { AuditAnchorKey } from '../core/audit/anchor.ts';
import type { Db } from './db.ts';
import { currentVersion } from './migrate.ts';
import type { Store } from './ports.ts';
import type { Database } from './schema.ts';
import { SqlAccountStore } from './sql/accounts.ts';
import { SqlApprovalStore } from './sql/approvals.ts';
import { SqlAuditStore } from './sql/audit.ts';
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
  return build(db, db.kysely, null, options);
}

function build(db: Db, k: Kysely<Database>, tx: Transaction<Database> | null, options: StoreOptions): Store {
  const transaction = <T>(work: (store: Store) => Promise<T>): Promise<T> =>
    tx ? work(store) : db.kysely.transaction().execute((t) => work(build(db, t, t, options)));
  const inTransaction = <T>(work: (k: Kysely<Database>) => Promise<T>): Promise<T> =>
    tx ? work(tx) : db.kysely.transaction().execute((t) => work(t));
  const store: Store = {
    accounts: new SqlAccountStore(k, db.dialect),
    pathFacts: new SqlPathFactStore(k),
    invitations: new SqlInvitationStore(k),
    approvals: new SqlApprovalStore(k),
    passkeys: new SqlPasskeyStore(k),
    ceremonies: new SqlCeremonyStore(k),
    sessions: new SqlSessionStore(k),
    audit: new SqlAuditStore(k, db.dialect, inTransaction, options.auditAnchor ?? null),
    rateLimits: new SqlRateLimitStore(k),
    settings: new SqlSettingsStore(k),
    oidcPayloads: new SqlOidcPayloadStore(k),
    oidcClients: new SqlOidcClientStore(k),
    oidcKeys: new SqlOidcKeyStore(k),
    authenticators: new SqlAuthenticatorStore(k),
    codeAttempts: new SqlCodeAttemptStore(k),
    recoveryCodes: new SqlRecoveryCodeStore(k),
    codeThrottles: new SqlCodeThrottleStore(k),
    attestationMetadata: new SqlAttestationMetadataStore(k, inTransaction),
    oidcGrantSessions: new SqlOidcGrantSessionStore(k),
    oidcLogoutOutbox: new SqlOidcLogoutOutboxStore(k),
    workloads: new SqlWorkloadStore(k),
    apiKeys: new SqlApiKeyStore(k),
    delegations: new SqlDelegationStore(k),
    ssfStreams: new SqlSsfStreamStore(k),
    ssfOutbox: new SqlSsfOutboxStore(k),
    imports: new SqlImportStore(k),
    posture: new SqlPostureStore(k, db.dialect),
    scim: new SqlScimStore(k),
    adoptionReminders: new SqlAdoptionReminderStore(k),
    transaction,
    ping: async () => {
      await sql`select 1`.execute(k);
    },
    schemaVersion: () => currentVersion(db),
  };
  return store;
}
