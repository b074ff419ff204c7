/**
 * The attestation metadata port (migration 005) on SQLite and PostgreSQL: imported FIDO metadata
 * entries are replaced as a whole, and only by a BLOB with a higher number, however many imports race.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Passkey } from '../../src/core/model.ts';
import type { Db } from '../../src/store/db.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { MIGRATIONS, migrate } from '../../src/store/migrate.ts';
import type { AttestationMetadataEntry } from '../../src/store/ports.ts';
import { BACKENDS, type TestDatabase } from '../helpers/db.ts';
import { useDatabaseBefore } from '../helpers/migrations.ts';
import { useFreshStore } from '../helpers/store.ts';

const T0 = Date.UTC(2026, 0, 1);
const aaguid = (n: number) => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;
const entry = (n: number, blobNo: number, fields: Partial<AttestationMetadataEntry> = {}): AttestationMetadataEntry => ({
  aaguid: aaguid(n),
  description: `Key ${n}`,
  rootCertificates: ['MIIBfake', 'MIIBother'],
  statusReports: [{ status: 'FIDO_CERTIFIED_L1', effectiveDate: '2025-01-01' }],
  blobNo,
  nextUpdate: '2027-01-01',
  ...fields,
});
const blob = (no: number, entries: number) => ({ no, nextUpdate: '2027-01-01', importedAt: T0 + no, entries });

describe.each(BACKENDS)('attestation metadata store contract on %s', (backend) => {
  let store: Store;
  let db: Db;
  let database: TestDatabase;
  useFreshStore(backend, (fresh) => ({ store, db, database } = fresh));

  it('finding 1: MDS import stores entries and finds them by AAGUID, with the BLOB they came from', async () => {
    expect(await store.attestationMetadata.current()).toBeUndefined();
    expect(await store.attestationMetadata.find(aaguid(1))).toBeUndefined();
    const entries = Array.from({ length: 450 }, (_, i) => entry(i + 1, 5)); // more than one INSERT chunk
    entries[1] = entry(2, 5, { statusReports: [{ status: 'REVOKED' }], rootCertificates: [] });
    expect(await store.attestationMetadata.replace(blob(5, entries.length), entries)).toBe(true);
    expect(await store.attestationMetadata.find(aaguid(1))).toEqual(entries[0]);
    expect(await store.attestationMetadata.find(aaguid(2))).toEqual(entries[1]);
    expect(await store.attestationMetadata.find(aaguid(450))).toEqual(entries[449]);
    expect(await store.attestationMetadata.current()).toEqual(blob(5, 450));
  });

  it('finding 1: MDS import replaces every entry with a newer BLOB, and refuses one that is not newer', async () => {
    await store.attestationMetadata.replace(blob(5, 2), [entry(1, 5), entry(2, 5)]);
    expect(await store.attestationMetadata.replace(blob(5, 1), [entry(3, 5)])).toBe(false);
    expect(await store.attestationMetadata.replace(blob(4, 1), [entry(3, 4)])).toBe(false);
    expect(await store.attestationMetadata.find(aaguid(3))).toBeUndefined();
    expect(await store.attestationMetadata.current()).toEqual(blob(5, 2));
    expect(await store.attestationMetadata.replace(blob(6, 1), [entry(3, 6)])).toBe(true);
    expect(await store.attestationMetadata.find(aaguid(1))).toBeUndefined();
    expect(await store.attestationMetadata.find(aaguid(3))).toMatchObject({ blobNo: 6 });
    expect(await store.attestationMetadata.current()).toEqual(blob(6, 1));
  });

  it('finding 1: MDS import: of racing imports of one BLOB number, exactly one wins', async () => {
    await store.attestationMetadata.replace(blob(1, 1), [entry(1, 1)]);
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => store.attestationMetadata.replace(blob(2, 1), [entry(2, 2)])));
    const won = results.filter((r) => r.status === 'fulfilled' && r.value === true).length;
    expect(won).toBe(1);
    expect(await store.attestationMetadata.find(aaguid(2))).toMatchObject({ blobNo: 2 });
  });
});

const aPasskey = (id: string, accountId: string): Passkey => ({
  id,
  accountId,
  credentialId: `cred-${id}`,
  publicKey: 'pk',
  alg: -7,
  signCount: 0,
  transports: ['usb'],
  aaguid: aaguid(1),
  backupEligible: false,
  backupState: false,
  userVerified: true,
  attestationFormat: 'packed',
  attestationTrusted: true,
  nickname: id,
  status: 'active',
  flaggedReason: null,
  createdAt: T0,
  lastUsedAt: null,
});

describe.each(BACKENDS)('migration 5 on %s', (backend) => {
  let db: Db;
  useDatabaseBefore(backend, 5, (opened) => (db = opened));

  it('finding 1: withdraws trust that came from the AAGUID allow-list alone, and keeps trust from a verified chain', async () => {
    const store = createStore(db);
    await store.accounts.create({ id: 'acc', username: 'alice', displayName: 'Alice', role: 'admin', status: 'active', userHandle: 'h', email: null, createdAt: T0 });
    for (const [id, trustReason] of [['pk-allowed', 'aaguid_allowed'], ['pk-anchored', 'anchored']] as const) {
      await store.passkeys.insert(aPasskey(id, 'acc'));
      // Written as the schema of version 4 holds it (the store of today writes columns later migrations add).
      const details = JSON.stringify({ passkey: id, aaguid: aaguid(1), attestationTrusted: true, trustReason });
      await sql`insert into audit_events (at, type, outcome, account_id, details, prev_hash, hash) values (${T0}, 'passkey.registered', 'success', 'acc', ${details}, '', ${id})`.execute(db.kysely);
    }
    expect(await migrate(db)).toEqual(MIGRATIONS.filter((m) => m.version >= 5).map((m) => m.version));
    const trusted = Object.fromEntries((await store.passkeys.listByAccount('acc')).map((p) => [p.id, p.attestationTrusted]));
    expect(trusted).toEqual({ 'pk-allowed': false, 'pk-anchored': true });
  });
});
