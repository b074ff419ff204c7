/**
 * The store contract: every port method, on SQLite and on PostgreSQL, each test on a fresh database.
 * Time is a plain number passed in; nothing here waits for the clock. On PostgreSQL the store runs
 * over a pool of 10 connections, so the parallel calls below really race on separate sessions.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { sql, type KyselyPlugin } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACR } from '../../src/core/assurance/level.ts';
import { auditAnchorKey } from '../../src/core/audit/anchor.ts';
import { verifyChain } from '../../src/core/audit/chain.ts';
import type { Account, Approval, AuditEvent, Ceremony, Invitation, Passkey, Session } from '../../src/core/model.ts';
import { openDatabase, type Db } from '../../src/store/db.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { LATEST_VERSION, MIGRATIONS, migrate } from '../../src/store/migrate.ts';
import { liveAt } from '../../src/store/sql/sessions.ts';
import { BACKENDS, freshDatabase, type Backend, type TestDatabase } from '../helpers/db.ts';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let serial = 0;
const next = (): number => ++serial;

function anAccount(fields: Partial<Account> = {}): Account {
  const n = next();
  return { id: `acc-${n}`, username: `user${n}`, displayName: `User ${n}`, role: 'member', status: 'invited', userHandle: `handle-${n}`, email: null, createdAt: T0, ...fields };
}

function anInvitation(accountId: string, fields: Partial<Invitation> = {}): Invitation {
  const n = next();
  return { id: `inv-${n}`, accountId, secretHash: `hash-${n}`, createdBy: null, createdAt: T0, expiresAt: T0 + HOUR, usedAt: null, ...fields };
}

function aPasskey(accountId: string, fields: Partial<Passkey> = {}): Passkey {
  const n = next();
  return {
    id: `pk-${n}`,
    accountId,
    credentialId: randomBytes(16).toString('base64url'),
    publicKey: randomBytes(77).toString('base64url'),
    alg: -7,
    signCount: 0,
    transports: ['internal', 'hybrid'],
    aaguid: '08987058-cadc-4b81-b6e1-30de50dcbe96',
    backupEligible: true,
    backupState: false,
    userVerified: true,
    attestationFormat: 'none',
    attestationTrusted: false,
    nickname: `Key ${n}`,
    status: 'active',
    flaggedReason: null,
    createdAt: T0 + n,
    lastUsedAt: null,
    ...fields,
  };
}

function aCeremony(fields: Partial<Ceremony> = {}): Ceremony {
  return { challengeHash: randomBytes(32).toString('base64url'), kind: 'authentication', accountId: null, invitationId: null, createdAt: T0, expiresAt: T0 + 5 * MINUTE, ...fields };
}

function aSession(accountId: string, fields: Partial<Session> = {}): Session {
  const n = next();
  return {
    id: `ses-${n}`,
    accountId,
    secretHash: `secret-${n}`,
    aal: 2,
    acr: ACR.aal2PhishingResistant,
    amr: ['hwk', 'user'],
    authTime: T0,
    passkeyId: null,
    createdAt: T0,
    lastSeenAt: T0,
    idleExpiresAt: T0 + HOUR,
    expiresAt: T0 + 24 * HOUR,
    ip: '192.0.2.1',
    userAgent: 'test',
    revokedAt: null,
    purpose: 'sign_in',
    ...fields,
  };
}

/** Every migration version, 1 to the latest: what the one instance that migrates a fresh database applies. */
const ALL_VERSIONS = MIGRATIONS.map((m) => m.version);

/** What `verifyChain` reads from stored events: the details exactly as stored. */
const chained = (events: readonly AuditEvent[]) => events.map((e) => ({ ...e, details: e.detailsJson }));

/** The URL of a fresh database, on PostgreSQL with a pool of several connections. */
const pooled = (fresh: TestDatabase): string => (fresh.backend === 'postgres' ? `${fresh.url}&pool=10` : fresh.url);

/**
 * Starts `count` processes that each open `url` and, once all are ready, call `migrate` together;
 * resolves to what each one applied. Instances are processes, and on SQLite a lock waited for by
 * another process takes a different path than one waited for in this process.
 */
async function migrateInProcesses(url: string, count: number): Promise<number[][]> {
  const script = `
    const { openDatabase } = await import(process.env.KB_DB_MODULE);
    const { migrate } = await import(process.env.KB_MIGRATE_MODULE);
    const db = openDatabase(process.env.KB_URL);
    process.stdout.write('ready\\n');
    process.stdin.once('data', async () => {
      try {
        process.stdout.write(JSON.stringify(await migrate(db, 0)) + '\\n');
      } finally {
        await db.close();
        process.stdin.destroy();
      }
    });`;
  const env = {
    ...process.env,
    KB_URL: url,
    KB_DB_MODULE: new URL('../../src/store/db.ts', import.meta.url).href,
    KB_MIGRATE_MODULE: new URL('../../src/store/migrate.ts', import.meta.url).href,
  };
  const cwd = fileURLToPath(new URL('../..', import.meta.url));
  const children: ChildProcessByStdio<Writable, Readable, Readable>[] = [];
  try {
    const outcomes = Array.from({ length: count }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(child);
      let stdout = '';
      let stderr = '';
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.startsWith('ready\n')) resolve();
        });
        child.once('exit', () => reject(new Error(`child exited before it was ready: ${stderr}`)));
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const done = new Promise<number[]>((resolve, reject) => {
        child.once('exit', (code) => {
          if (code !== 0) return reject(new Error(`child exited with ${code}: ${stderr}`));
          resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as number[]);
        });
      });
      // Awaited below; this only keeps an early failure from also surfacing as an unhandled rejection.
      done.catch(() => {});
      return { child, ready, done };
    });
    await Promise.all(outcomes.map((o) => o.ready));
    for (const o of outcomes) o.child.stdin.write('go\n');
    return await Promise.all(outcomes.map((o) => o.done));
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

describe.each(BACKENDS)('store contract on %s', (backend: Backend) => {
  let fresh: TestDatabase;
  let db: Db;
  let store: Store;

  beforeEach(async () => {
    fresh = await freshDatabase(backend);
    db = openDatabase(pooled(fresh));
    await migrate(db, T0);
    store = createStore(db);
  });

  afterEach(async () => {
    await db?.close();
    await fresh?.drop();
  });

  describe('accounts', () => {
    it('creates an account and finds it by id, username and user handle', async () => {
      const a = anAccount({ email: 'a@example.com', role: 'admin', status: 'active' });
      expect(await store.accounts.create(a)).toBe(true);
      expect(await store.accounts.findById(a.id)).toEqual(a);
      expect(await store.accounts.findByUsername(a.username)).toEqual(a);
      expect(await store.accounts.findByUserHandle(a.userHandle)).toEqual(a);
      expect(await store.accounts.findById('nobody')).toBeUndefined();
      expect(await store.accounts.findByUsername('nobody')).toBeUndefined();
      expect(await store.accounts.findByUserHandle('nobody')).toBeUndefined();
    });

    it('answers false for a taken username, user handle or id, and keeps the first', async () => {
      const a = anAccount();
      expect(await store.accounts.create(a)).toBe(true);
      expect(await store.accounts.create(anAccount({ username: a.username }))).toBe(false);
      expect(await store.accounts.create(anAccount({ userHandle: a.userHandle }))).toBe(false);
      expect(await store.accounts.create(anAccount({ id: a.id }))).toBe(false);
      expect(await store.accounts.count()).toBe(1);
      expect(await store.accounts.findByUsername(a.username)).toEqual(a);
    });

    it('answers false for a taken username inside a transaction, which carries on', async () => {
      const a = anAccount();
      await store.accounts.create(a);
      const b = anAccount();
      await store.transaction(async (tx) => {
        expect(await tx.accounts.create(anAccount({ username: a.username }))).toBe(false);
        // An expected failure must not poison the transaction (PostgreSQL aborts it on an error).
        expect(await tx.accounts.create(b)).toBe(true);
        await tx.audit.append({ type: 'account.created', outcome: 'success', accountId: b.id, at: T0 });
      });
      expect(await store.accounts.findById(b.id)).toEqual(b);
      expect((await store.audit.scan(1, 10)).map((e) => e.accountId)).toEqual([b.id]);
    });

    it('lists by creation time, then username, and counts', async () => {
      expect(await store.accounts.list()).toEqual([]);
      expect(await store.accounts.count()).toBe(0);
      const c = anAccount({ username: 'carol', createdAt: T0 + 3 });
      const b = anAccount({ username: 'bob', createdAt: T0 + 1 });
      const a = anAccount({ username: 'alice', createdAt: T0 + 1 });
      for (const account of [c, b, a]) await store.accounts.create(account);
      expect(await store.accounts.list()).toEqual([a, b, c]);
      expect(await store.accounts.count()).toBe(3);
    });

    it('sets status and role of an existing account only', async () => {
      const a = anAccount();
      await store.accounts.create(a);
      expect(await store.accounts.setStatus(a.id, 'active', T0 + 1)).toBe(true);
      expect(await store.accounts.setRole(a.id, 'admin', T0 + 2)).toBe(true);
      expect(await store.accounts.findById(a.id)).toEqual({ ...a, status: 'active', role: 'admin' });
      expect(await store.accounts.setStatus('nobody', 'active', T0)).toBe(false);
      expect(await store.accounts.setRole('nobody', 'admin', T0)).toBe(false);
    });

    it('lock holds off a second transaction on the same account until the first ends', async () => {
      const a = anAccount();
      await store.accounts.create(a);
      const order: string[] = [];
      let second: Promise<void> | undefined;
      await store.transaction(async (tx) => {
        await tx.accounts.lock(a.id);
        order.push('first locked');
        second = store.transaction(async (tx2) => {
          await tx2.accounts.lock(a.id);
          order.push('second locked');
        });
        if (backend === 'postgres') {
          // Wait until the second transaction is queued on the row lock (it then holds a tuple lock).
          let waiting = false;
          for (let i = 0; i < 2000 && !waiting; i++) {
            const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'tuple' and relation = 'accounts'::regclass`.execute(db.kysely);
            waiting = rows[0]!.n > 0;
            if (!waiting) await new Promise((resolve) => setTimeout(resolve, 5));
          }
          expect(waiting).toBe(true);
        }
        // On SQLite the single connection serialises transactions: the second cannot start yet.
        for (let i = 0; i < 3; i++) await tx.accounts.findById(a.id);
        order.push('first done');
      });
      await second;
      expect(order).toEqual(['first locked', 'first done', 'second locked']);
    });
  });

  describe('approvals (migration 014)', () => {
    let account: Account;
    beforeEach(async () => {
      account = anAccount();
      await store.accounts.create(account);
    });
    const anApproval = (over: Partial<Approval> = {}): Approval => ({
      id: randomUUID(),
      kind: 'recovery',
      accountId: account.id,
      state: 'awaiting_approval',
      requestedBy: 'admin:a',
      requesterId: null,
      reason: 'lost phone',
      revokeExisting: true,
      roleFrom: null,
      roleTo: null,
      approvedBy: null,
      approverId: null,
      approvedAt: null,
      releaseAt: null,
      releaseNoticedAt: null,
      invitationId: null,
      linkedAt: null,
      cancelledBy: null,
      cancelledAt: null,
      createdAt: T0,
      ...over,
    });

    it('creates, finds and lists newest first, by kind, account and state', async () => {
      const a = anApproval();
      const b = anApproval({ kind: 'role', roleFrom: 'member', roleTo: 'admin', revokeExisting: false, reason: null, createdAt: T0 + 1 });
      await store.approvals.create(a);
      await store.approvals.create(b);
      expect(await store.approvals.find(a.id)).toEqual(a);
      expect(await store.approvals.find(randomUUID())).toBeUndefined();
      expect((await store.approvals.list({ limit: 10 })).map((x) => x.id)).toEqual([b.id, a.id]);
      expect((await store.approvals.list({ kind: 'role', limit: 10 })).map((x) => x.id)).toEqual([b.id]);
      expect(await store.approvals.list({ states: ['approved'], limit: 10 })).toEqual([]);
      expect(await store.approvals.list({ states: [], limit: 10 })).toEqual([]);
    });

    it('approves once, from awaiting_approval only; links once, after release; claims the release notice once', async () => {
      const a = anApproval();
      await store.approvals.create(a);
      const approval = { approvedBy: 'admin:b', approverId: null, at: T0 + 1, releaseAt: T0 + 100 };
      const racing = await Promise.all(Array.from({ length: 8 }, () => store.approvals.approve(a.id, approval)));
      expect(racing.filter(Boolean)).toHaveLength(1);
      expect(await store.approvals.find(a.id)).toMatchObject({ state: 'approved', approvedBy: 'admin:b', releaseAt: T0 + 100 });
      expect(await store.approvals.markReleaseNoticed(a.id, T0 + 99)).toBe(false);
      expect(await store.approvals.markLinked(a.id, { invitationId: 'inv', at: T0 + 99 })).toBe(false);
      expect(await store.approvals.markReleaseNoticed(a.id, T0 + 100)).toBe(true);
      expect(await store.approvals.markReleaseNoticed(a.id, T0 + 101)).toBe(false);
      expect(await store.approvals.markLinked(a.id, { invitationId: 'inv', at: T0 + 100 })).toBe(true);
      expect(await store.approvals.markLinked(a.id, { invitationId: 'inv2', at: T0 + 101 })).toBe(false);
      expect(await store.approvals.findByInvitation('inv')).toMatchObject({ id: a.id, state: 'linked', linkedAt: T0 + 100 });
    });

    it('cancels from the states given; cancelForAccount ends pending ones only', async () => {
      const pending = anApproval();
      const approved = anApproval({ state: 'approved', releaseAt: T0 });
      const linked = anApproval({ state: 'linked' });
      for (const x of [pending, approved, linked]) await store.approvals.create(x);
      expect(await store.approvals.cancel(linked.id, { by: 'cli', at: T0, from: ['awaiting_approval'] })).toBe(false);
      expect(await store.approvals.cancelForAccount(account.id, { by: 'cli', at: T0 + 5 })).toBe(2);
      expect(await store.approvals.find(pending.id)).toMatchObject({ state: 'cancelled', cancelledBy: 'cli', cancelledAt: T0 + 5 });
      expect((await store.approvals.find(linked.id))?.state).toBe('linked');
      expect(await store.approvals.approve(pending.id, { approvedBy: 'admin:b', approverId: null, at: T0 + 6, releaseAt: null })).toBe(false);
    });
  });

  describe('invitations', () => {
    let account: Account;
    beforeEach(async () => {
      account = anAccount();
      await store.accounts.create(account);
    });

    it('creates and finds an invitation', async () => {
      const i = anInvitation(account.id, { createdBy: 'admin-1' });
      await store.invitations.create(i);
      expect(await store.invitations.find(i.id)).toEqual(i);
      expect(await store.invitations.find('nothing')).toBeUndefined();
    });

    it('consumes once', async () => {
      const i = anInvitation(account.id);
      await store.invitations.create(i);
      expect(await store.invitations.consume(i.id, T0 + 10)).toBe(true);
      expect(await store.invitations.consume(i.id, T0 + 11)).toBe(false);
      expect(await store.invitations.find(i.id)).toEqual({ ...i, usedAt: T0 + 10 });
      expect(await store.invitations.consume('nothing', T0)).toBe(false);
    });

    it('refuses an expired invitation: expiry is exclusive', async () => {
      const expired = anInvitation(account.id, { expiresAt: T0 + 100 });
      const live = anInvitation(account.id, { expiresAt: T0 + 100 });
      await store.invitations.create(expired);
      await store.invitations.create(live);
      expect(await store.invitations.consume(expired.id, T0 + 100)).toBe(false);
      expect(await store.invitations.consume(expired.id, T0 + 10_000)).toBe(false);
      expect((await store.invitations.find(expired.id))?.usedAt).toBeNull();
      expect(await store.invitations.consume(live.id, T0 + 99)).toBe(true);
    });

    it('hasUsable: an unused, unexpired link of that account', async () => {
      const other = anAccount();
      await store.accounts.create(other);
      const i = anInvitation(account.id, { expiresAt: T0 + 100 });
      await store.invitations.create(i);
      expect(await store.invitations.hasUsable(account.id, T0 + 99)).toBe(true);
      expect(await store.invitations.hasUsable(account.id, T0 + 100)).toBe(false);
      expect(await store.invitations.hasUsable(other.id, T0)).toBe(false);
      expect(await store.invitations.consume(i.id, T0 + 1)).toBe(true);
      expect(await store.invitations.hasUsable(account.id, T0 + 2)).toBe(false);
    });

    it('revokeForAccount ends unused invitations of that account only', async () => {
      const other = anAccount();
      await store.accounts.create(other);
      const unused = anInvitation(account.id);
      const used = anInvitation(account.id);
      const expired = anInvitation(account.id, { expiresAt: T0 + 5 });
      const others = anInvitation(other.id);
      for (const i of [unused, used, expired, others]) await store.invitations.create(i);
      expect(await store.invitations.consume(used.id, T0 + 1)).toBe(true);

      const now = T0 + 10;
      await store.invitations.revokeForAccount(account.id, now);
      expect(await store.invitations.find(unused.id)).toEqual({ ...unused, expiresAt: now });
      expect(await store.invitations.find(used.id)).toEqual({ ...used, usedAt: T0 + 1 });
      expect(await store.invitations.find(expired.id)).toEqual(expired);
      expect(await store.invitations.find(others.id)).toEqual(others);
      expect(await store.invitations.consume(unused.id, now)).toBe(false);
      expect(await store.invitations.consume(others.id, now)).toBe(true);
    });

    it('a device link keeps its kind, level cap and passkey; revokeForAccount with a kind ends only links of that kind', async () => {
      const device = anInvitation(account.id, { kind: 'device', maxAal: 2, passkeyId: 'pk-issuer' });
      const enrolment = anInvitation(account.id);
      for (const i of [device, enrolment]) await store.invitations.create(i);
      expect(await store.invitations.find(device.id)).toEqual(device);
      const now = T0 + 10;
      await store.invitations.revokeForAccount(account.id, now, 'device');
      expect(await store.invitations.find(device.id)).toEqual({ ...device, expiresAt: now });
      expect(await store.invitations.find(enrolment.id)).toEqual(enrolment);
      expect(await store.invitations.consume(device.id, now)).toBe(false);
      expect(await store.invitations.consume(enrolment.id, now)).toBe(true);
    });
  });

  describe('passkeys', () => {
    let account: Account;
    let other: Account;
    beforeEach(async () => {
      account = anAccount();
      other = anAccount();
      await store.accounts.create(account);
      await store.accounts.create(other);
    });

    it('inserts and finds by id and credential id, every field intact', async () => {
      const p = aPasskey(account.id, { transports: ['usb', 'nfc'], backupEligible: false, attestationFormat: 'packed', attestationTrusted: true, alg: -8, signCount: 7 });
      expect(await store.passkeys.insert(p)).toBe(true);
      expect(await store.passkeys.findById(p.id)).toEqual(p);
      expect(await store.passkeys.findByCredentialId(p.credentialId)).toEqual(p);
      expect(await store.passkeys.findById('nothing')).toBeUndefined();
      expect(await store.passkeys.findByCredentialId('nothing')).toBeUndefined();
    });

    it('finds a passkey with the account that holds it, every field of both intact, in one read', async () => {
      const p = aPasskey(account.id, { transports: ['internal'], backupEligible: true, backupState: true, signCount: 3 });
      const q = aPasskey(other.id);
      for (const k of [p, q]) expect(await store.passkeys.insert(k)).toBe(true);
      const holder = await store.accounts.findById(account.id);
      expect(holder).toBeDefined();
      expect(await store.passkeys.findWithOwner(p.credentialId)).toEqual({ passkey: p, account: holder });
      expect(await store.passkeys.findWithOwner(q.credentialId)).toEqual({ passkey: q, account: await store.accounts.findById(other.id) });
      expect(await store.passkeys.findWithOwner('nothing')).toBeUndefined();
    });

    it('answers false for a credential id already registered, on any account', async () => {
      const p = aPasskey(account.id);
      expect(await store.passkeys.insert(p)).toBe(true);
      expect(await store.passkeys.insert(aPasskey(other.id, { credentialId: p.credentialId }))).toBe(false);
      expect(await store.passkeys.listByAccount(other.id)).toEqual([]);
      expect(await store.passkeys.findByCredentialId(p.credentialId)).toEqual(p);
    });

    it('answers false for a taken credential id inside a transaction, which carries on', async () => {
      const p = aPasskey(account.id);
      await store.passkeys.insert(p);
      const q = aPasskey(account.id);
      await store.transaction(async (tx) => {
        expect(await tx.passkeys.insert(aPasskey(account.id, { credentialId: p.credentialId }))).toBe(false);
        expect(await tx.passkeys.insert(q)).toBe(true);
      });
      expect(await store.passkeys.listByAccount(account.id)).toEqual([p, q]);
    });

    it('keeps a 1023-byte credential id whole', async () => {
      // WebAuthn allows credential ids up to 1023 bytes (WebAuthn L3 §5.8.3): 1364 base64url characters.
      const credentialId = randomBytes(1023).toString('base64url');
      expect(credentialId).toHaveLength(1364);
      const p = aPasskey(account.id, { credentialId });
      expect(await store.passkeys.insert(p)).toBe(true);
      const found = await store.passkeys.findByCredentialId(credentialId);
      expect(found?.credentialId).toBe(credentialId);
      expect(found?.credentialId).toHaveLength(1364);
      expect(await store.passkeys.insert(aPasskey(account.id, { credentialId }))).toBe(false);
    });

    it("lists an account's passkeys in creation order", async () => {
      const second = aPasskey(account.id, { createdAt: T0 + 20 });
      const first = aPasskey(account.id, { createdAt: T0 + 10 });
      const theirs = aPasskey(other.id);
      for (const p of [second, first, theirs]) await store.passkeys.insert(p);
      expect(await store.passkeys.listByAccount(account.id)).toEqual([first, second]);
      expect(await store.passkeys.listByAccount(other.id)).toEqual([theirs]);
      expect(await store.passkeys.listByAccount('nobody')).toEqual([]);
    });

    it('recordUse is a compare-and-set on the sign count', async () => {
      const p = aPasskey(account.id, { signCount: 5 });
      await store.passkeys.insert(p);
      expect(await store.passkeys.recordUse(p.id, { expectedSignCount: 5, signCount: 6, backupState: true, now: T0 + 100 })).toBe(true);
      expect(await store.passkeys.findById(p.id)).toEqual({ ...p, signCount: 6, backupState: true, lastUsedAt: T0 + 100 });
      // A racing assertion that read the old count loses.
      expect(await store.passkeys.recordUse(p.id, { expectedSignCount: 5, signCount: 7, backupState: false, now: T0 + 200 })).toBe(false);
      expect(await store.passkeys.findById(p.id)).toEqual({ ...p, signCount: 6, backupState: true, lastUsedAt: T0 + 100 });
      expect(await store.passkeys.recordUse('nothing', { expectedSignCount: 0, signCount: 1, backupState: false, now: T0 })).toBe(false);
    });

    it('flag takes a passkey out of use', async () => {
      const p = aPasskey(account.id);
      const q = aPasskey(account.id);
      await store.passkeys.insert(p);
      await store.passkeys.insert(q);
      expect(await store.passkeys.countActive(account.id)).toBe(2);
      await store.passkeys.flag(p.id, 'sign_count_regressed');
      expect(await store.passkeys.findById(p.id)).toEqual({ ...p, status: 'flagged', flaggedReason: 'sign_count_regressed' });
      expect(await store.passkeys.countActive(account.id)).toBe(1);
      expect(await store.passkeys.recordUse(p.id, { expectedSignCount: 0, signCount: 1, backupState: false, now: T0 })).toBe(false);
      expect((await store.passkeys.findById(p.id))?.signCount).toBe(0);
    });

    it('renames only for the owning account', async () => {
      const p = aPasskey(account.id);
      await store.passkeys.insert(p);
      expect(await store.passkeys.rename(other.id, p.id, 'Stolen')).toBe(false);
      expect((await store.passkeys.findById(p.id))?.nickname).toBe(p.nickname);
      expect(await store.passkeys.rename(account.id, p.id, 'Laptop')).toBe(true);
      expect((await store.passkeys.findById(p.id))?.nickname).toBe('Laptop');
      expect(await store.passkeys.rename(account.id, 'nothing', 'x')).toBe(false);
    });

    it('removes only for the owning account, once', async () => {
      const p = aPasskey(account.id);
      await store.passkeys.insert(p);
      expect(await store.passkeys.remove(other.id, p.id)).toBe(false);
      expect(await store.passkeys.findById(p.id)).toEqual(p);
      expect(await store.passkeys.remove(account.id, p.id)).toBe(true);
      expect(await store.passkeys.findById(p.id)).toBeUndefined();
      expect(await store.passkeys.findByCredentialId(p.credentialId)).toBeUndefined();
      expect(await store.passkeys.remove(account.id, p.id)).toBe(false);
    });

    it('counts active passkeys per account', async () => {
      expect(await store.passkeys.countActive(account.id)).toBe(0);
      await store.passkeys.insert(aPasskey(account.id));
      await store.passkeys.insert(aPasskey(account.id));
      await store.passkeys.insert(aPasskey(account.id, { status: 'flagged', flaggedReason: 'x' }));
      await store.passkeys.insert(aPasskey(other.id));
      expect(await store.passkeys.countActive(account.id)).toBe(2);
      expect(await store.passkeys.countActive(other.id)).toBe(1);
    });
  });

  describe('ceremonies', () => {
    it('consume returns the ceremony once, then nothing', async () => {
      const account = anAccount();
      await store.accounts.create(account);
      const c = aCeremony({ kind: 'registration', accountId: account.id, invitationId: 'inv-x' });
      await store.ceremonies.create(c);
      expect(await store.ceremonies.consume(c.challengeHash)).toEqual(c);
      expect(await store.ceremonies.consume(c.challengeHash)).toBeUndefined();
      expect(await store.ceremonies.consume('nothing')).toBeUndefined();
    });

    it('purgeExpired removes ceremonies whose expiry has come, and no others', async () => {
      const old = aCeremony({ expiresAt: T0 + 10 });
      const due = aCeremony({ expiresAt: T0 + 20 });
      const live = aCeremony({ expiresAt: T0 + 21 });
      for (const c of [old, due, live]) await store.ceremonies.create(c);
      expect(await store.ceremonies.purgeExpired(T0 + 20)).toBe(2);
      expect(await store.ceremonies.purgeExpired(T0 + 20)).toBe(0);
      expect(await store.ceremonies.consume(old.challengeHash)).toBeUndefined();
      expect(await store.ceremonies.consume(due.challengeHash)).toBeUndefined();
      expect(await store.ceremonies.consume(live.challengeHash)).toEqual(live);
    });
  });

  describe('sessions', () => {
    let account: Account;
    let other: Account;
    beforeEach(async () => {
      account = anAccount();
      other = anAccount();
      await store.accounts.create(account);
      await store.accounts.create(other);
    });

    it('creates and finds a session', async () => {
      const s = aSession(account.id, { aal: 3, acr: ACR.aal3, amr: ['hwk'], passkeyId: 'pk-1' });
      await store.sessions.create(s);
      expect(await store.sessions.findById(s.id)).toEqual(s);
      expect(await store.sessions.findById('nothing')).toBeUndefined();
    });

    it('touch moves the idle deadline of a live session only', async () => {
      const live = aSession(account.id);
      const revoked = aSession(account.id, { revokedAt: T0 + 1 });
      const expired = aSession(account.id, { expiresAt: T0 + 10, idleExpiresAt: T0 + 10 });
      const idle = aSession(account.id, { idleExpiresAt: T0 + 10 });
      for (const s of [live, revoked, expired, idle]) await store.sessions.create(s);
      const now = T0 + 10;
      for (const s of [live, revoked, expired, idle]) await store.sessions.touch(s.id, now, now + HOUR);
      expect(await store.sessions.findById(live.id)).toEqual({ ...live, lastSeenAt: now, idleExpiresAt: now + HOUR });
      // An ended session stays ended: touching must not bring an idle-expired one back.
      expect(await store.sessions.findById(revoked.id)).toEqual(revoked);
      expect(await store.sessions.findById(expired.id)).toEqual(expired);
      expect(await store.sessions.findById(idle.id)).toEqual(idle);
      expect(await store.sessions.listActive(account.id, now)).toEqual([{ ...live, lastSeenAt: now, idleExpiresAt: now + HOUR }]);
    });

    it("revoke ends one of the account's own sessions, once", async () => {
      const s = aSession(account.id);
      await store.sessions.create(s);
      expect(await store.sessions.revoke(other.id, s.id, T0 + 1)).toBe(false);
      expect((await store.sessions.findById(s.id))?.revokedAt).toBeNull();
      expect(await store.sessions.revoke(account.id, s.id, T0 + 2)).toBe(true);
      expect(await store.sessions.revoke(account.id, s.id, T0 + 3)).toBe(false);
      expect(await store.sessions.findById(s.id)).toEqual({ ...s, revokedAt: T0 + 2 });
      expect(await store.sessions.revoke(account.id, 'nothing', T0)).toBe(false);
    });

    it('revokeAllForAccount ends every unrevoked session of the account and counts them', async () => {
      const a1 = aSession(account.id);
      const a2 = aSession(account.id);
      const before = aSession(account.id, { revokedAt: T0 + 1 });
      const theirs = aSession(other.id);
      for (const s of [a1, a2, before, theirs]) await store.sessions.create(s);
      expect(await store.sessions.revokeAllForAccount(account.id, T0 + 5)).toBe(2);
      expect((await store.sessions.findById(a1.id))?.revokedAt).toBe(T0 + 5);
      expect((await store.sessions.findById(a2.id))?.revokedAt).toBe(T0 + 5);
      expect((await store.sessions.findById(before.id))?.revokedAt).toBe(T0 + 1);
      expect(await store.sessions.findById(theirs.id)).toEqual(theirs);
      expect(await store.sessions.listActive(account.id, T0 + 5)).toEqual([]);
      expect(await store.sessions.revokeAllForAccount(account.id, T0 + 6)).toBe(0);
    });

    it('revokeByPasskey ends the live sessions one passkey signed in, but the one kept', async () => {
      const byKey = aSession(account.id, { passkeyId: 'pk-lost' });
      const kept = aSession(account.id, { passkeyId: 'pk-lost' });
      const otherKey = aSession(account.id, { passkeyId: 'pk-other' });
      const foreign = aSession(other.id, { passkeyId: 'pk-lost' });
      for (const s of [byKey, kept, otherKey, foreign]) await store.sessions.create(s);
      expect(await store.sessions.revokeByPasskey(account.id, 'pk-lost', T0 + 5, kept.id)).toBe(1);
      expect((await store.sessions.findById(byKey.id))?.revokedAt).toBe(T0 + 5);
      expect((await store.sessions.findById(kept.id))?.revokedAt).toBeNull();
      expect((await store.sessions.findById(otherKey.id))?.revokedAt).toBeNull();
      expect((await store.sessions.findById(foreign.id))?.revokedAt).toBeNull();
      expect(await store.sessions.revokeByPasskey(account.id, 'pk-lost', T0 + 6, kept.id)).toBe(0);
    });

    it('revokeMany ends the listed unrevoked sessions of the account only, and says which', async () => {
      const a1 = aSession(account.id);
      const a2 = aSession(account.id);
      const kept = aSession(account.id);
      const before = aSession(account.id, { revokedAt: T0 + 1 });
      const theirs = aSession(other.id);
      for (const s of [a1, a2, kept, before, theirs]) await store.sessions.create(s);
      const ended = await store.sessions.revokeMany(account.id, [a1.id, a2.id, before.id, theirs.id, 'nothing'], T0 + 5);
      expect(ended).toEqual([a1.id, a2.id].sort());
      expect((await store.sessions.findById(a1.id))?.revokedAt).toBe(T0 + 5);
      expect((await store.sessions.findById(a2.id))?.revokedAt).toBe(T0 + 5);
      expect(await store.sessions.findById(kept.id)).toEqual(kept);
      expect((await store.sessions.findById(before.id))?.revokedAt).toBe(T0 + 1);
      expect(await store.sessions.findById(theirs.id)).toEqual(theirs);
      expect(await store.sessions.revokeMany(account.id, [a1.id], T0 + 6)).toEqual([]);
      expect(await store.sessions.revokeMany(account.id, [], T0 + 6)).toEqual([]);
    });

    it('purgeEnded drops sessions that ended before the cut-off, whatever ended them', async () => {
      const cut = T0 + 10 * HOUR;
      const live = aSession(account.id, { idleExpiresAt: cut + 1, expiresAt: cut + HOUR });
      const expired = aSession(account.id, { idleExpiresAt: cut - 2, expiresAt: cut - 1 });
      const idle = aSession(account.id, { idleExpiresAt: cut - 1, expiresAt: cut + HOUR });
      const revoked = aSession(account.id, { idleExpiresAt: cut + 1, expiresAt: cut + HOUR, revokedAt: cut - 1 });
      const revokedLater = aSession(account.id, { idleExpiresAt: cut + 1, expiresAt: cut + HOUR, revokedAt: cut + 1 });
      for (const s of [live, expired, idle, revoked, revokedLater]) await store.sessions.create(s);
      expect(await store.sessions.purgeEnded(cut)).toBe(3);
      for (const s of [live, revokedLater]) expect(await store.sessions.findById(s.id)).toEqual(s);
      for (const s of [expired, idle, revoked]) expect(await store.sessions.findById(s.id)).toBeUndefined();
    });

    it('listActive and countActive leave out revoked, expired, idle-expired and foreign sessions (listed newest first)', async () => {
      const now = T0 + 2 * HOUR;
      const older = aSession(account.id, { createdAt: T0 + 1, idleExpiresAt: now + 1 });
      const newer = aSession(account.id, { createdAt: T0 + 2, idleExpiresAt: now + 1 });
      const revoked = aSession(account.id, { idleExpiresAt: now + 1, revokedAt: T0 + 5 });
      const expired = aSession(account.id, { idleExpiresAt: now + 1, expiresAt: now });
      const idle = aSession(account.id, { idleExpiresAt: now });
      const theirs = aSession(other.id, { idleExpiresAt: now + 1 });
      for (const s of [older, newer, revoked, expired, idle, theirs]) await store.sessions.create(s);
      expect(await store.sessions.listActive(account.id, now)).toEqual([newer, older]);
      expect(await store.sessions.countActive(account.id, now)).toBe(2);
      expect(await store.sessions.countActive(other.id, now)).toBe(1);
      expect(await store.sessions.listActive(other.id, now)).toEqual([theirs]);
    });

    // Migrations 27 and 28: a sign-in's live-session count (the per-account limit, ASVS 7.1.2) reads
    // only the account's live sessions, not every session of the 30 days ended ones are kept (27),
    // and reads them from the index alone, never their rows (28). Shown by the count itself and by
    // each database's plan for it.
    it('counts live sessions from one index alone, seeking the account, the unrevoked and the absolute expiry', async () => {
      const ada = anAccount({ status: 'active' });
      await store.accounts.create(ada);
      const now = T0 + 40 * 24 * HOUR;
      // A month of ended sessions (past their absolute limit), one revoked live one, one idle-expired
      // one and two live ones.
      for (let day = 0; day < 30; day++) {
        const ended = now - (29 - day) * 24 * HOUR - HOUR;
        await store.sessions.create(aSession(ada.id, { createdAt: now - (30 - day) * 24 * HOUR, idleExpiresAt: ended, expiresAt: ended }));
      }
      await store.sessions.create(aSession(ada.id, { expiresAt: now + HOUR, idleExpiresAt: now + HOUR, revokedAt: now - 1 }));
      await store.sessions.create(aSession(ada.id, { expiresAt: now + HOUR, idleExpiresAt: now }));
      await store.sessions.create(aSession(ada.id, { expiresAt: now + HOUR, idleExpiresAt: now + HOUR }));
      await store.sessions.create(aSession(ada.id, { expiresAt: now + 2 * HOUR, idleExpiresAt: now + HOUR }));
      expect(await store.sessions.countActive(ada.id, now)).toBe(2);
      expect((await store.accounts.recordSignIn(ada.id, now))?.liveSessions).toBe(2);

      // The count's statement as the store runs it (store/sql/sessions.ts countLiveOfAccount), and
      // on SQLite inside the sign-in's hold of the account (store/sql/accounts.ts holdCounting).
      const counted = db.kysely
        .selectFrom('sessions')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('sessions.account_id', '=', ada.id)
        .where(liveAt(now));
      const count = counted.compile();
      if (db.dialect === 'sqlite') {
        const hold = db.kysely.selectFrom('accounts').select(['last_sign_in_at', counted.as('live_sessions')]).where('id', '=', ada.id).where('status', '=', 'active').compile();
        for (const statement of [count, hold]) {
          const rows = (await db.kysely.executeQuery<{ detail: string }>({ ...statement, sql: `explain query plan ${statement.sql}` })).rows;
          expect(rows.map((r) => r.detail).join('\n')).toMatch(/SEARCH sessions USING COVERING INDEX sessions_account_live \(account_id=\? AND revoked_at=\? AND expires_at>\?\)/);
        }
      } else {
        const rows = await db.kysely.transaction().execute(async (tx) => {
          // A table this small is read whole otherwise; the question is which index the planner can use.
          await sql`set local enable_seqscan = off`.execute(tx);
          return (await tx.executeQuery<{ 'QUERY PLAN': string }>({ ...count, sql: `explain ${count.sql}` })).rows;
        });
        const text = rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(text).toContain('Index Only Scan using sessions_account_live on sessions');
        expect(text).toMatch(/Index Cond: \(\(account_id = .*\) AND \(revoked_at IS NULL\) AND \(expires_at > .*\) AND \(idle_expires_at > .*\)\)/);
      }
    });

    // Deleting an account cascades to every session of it, revoked ones too: the same index (migration
    // 29) finds them by its first column.
    it.runIf(backend === 'sqlite')('finds every session of an account, revoked ones too, through a full index', async () => {
      const { rows } = await sql<{ detail: string }>`explain query plan delete from sessions where account_id = ${'acc-x'}`.execute(db.kysely);
      expect(rows.map((r) => r.detail).join('\n')).toMatch(/USING COVERING INDEX sessions_account_live \(account_id=\?\)/);
    });
  });

  describe('audit', () => {
    const appendMany = async (count: number, accountIds: readonly (string | null)[] = [null]): Promise<AuditEvent[]> => {
      const events: AuditEvent[] = [];
      for (let i = 0; i < count; i++) {
        events.push(await store.audit.append({ type: 'test.event', outcome: 'success', accountId: accountIds[i % accountIds.length] ?? null, at: T0 + i, details: { i } }));
      }
      return events;
    };

    it('appends a gapless hash chain that verifies', async () => {
      const first = await store.audit.append({ type: 'account.created', outcome: 'success', accountId: 'acc-1', at: T0, details: { username: 'zoë', nested: { list: [1, 'two', null] } } });
      const second = await store.audit.append({
        type: 'signin.failed',
        outcome: 'failure',
        reason: 'passkey_unknown',
        context: { ip: '2001:db8::1', userAgent: 'Mozilla/5.0 "quoted"' },
        at: T0 + 1,
      });
      const rest = await appendMany(3);
      expect(first).toMatchObject({ seq: 1, prevHash: '', accountId: 'acc-1', reason: null, ip: null, userAgent: null, details: { username: 'zoë' } });
      expect(second).toMatchObject({ seq: 2, prevHash: first.hash, reason: 'passkey_unknown', accountId: null, ip: '2001:db8::1', userAgent: 'Mozilla/5.0 "quoted"', details: {} });

      const stored = await store.audit.scan(1, 100);
      expect(stored).toEqual([first, second, ...rest]);
      expect(stored.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      stored.forEach((e, i) => expect(e.prevHash).toBe(i === 0 ? '' : stored[i - 1]!.hash));
      expect(verifyChain(chained(stored))).toEqual({ ok: true, checked: 5 });
    });

    it('verifyChain reports the sequence number of a tampered row', async () => {
      await appendMany(5);
      await sql`update audit_events set details = ${'{"i":99}'} where seq = 3`.execute(db.kysely);
      expect(verifyChain(chained(await store.audit.scan(1, 100)))).toEqual({ ok: false, checked: 2, brokenAt: 3 });
    });

    it('an append in a transaction that rolls back leaves no event and no gap', async () => {
      await appendMany(2);
      await expect(
        store.transaction(async (tx) => {
          await tx.audit.append({ type: 'doomed', outcome: 'success', at: T0 + 10 });
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect((await store.audit.scan(1, 100)).map((e) => e.seq)).toEqual([1, 2]);
      const after = await store.audit.append({ type: 'after', outcome: 'success', at: T0 + 11 });
      expect(after.seq).toBe(3);
      const stored = await store.audit.scan(1, 100);
      expect(stored.map((e) => e.type)).not.toContain('doomed');
      expect(verifyChain(chained(stored))).toEqual({ ok: true, checked: 3 });
    });

    it('an append whose guessed head still holds runs two statements; after another store appended, it reads the head first', async () => {
      // Counts the statements the store executes (each passes through transformResult once).
      let statements = 0;
      const counting: KyselyPlugin = {
        transformQuery: (args) => args.node,
        transformResult: async (args) => {
          statements++;
          return args.result;
        },
      };
      const counted = createStore({ ...db, kysely: db.kysely.withPlugin(counting) });
      const other = createStore(db);
      const append = async (on: Store, type: string) => {
        statements = 0;
        const event = await on.audit.append({ type, outcome: 'success', at: T0 });
        return { seq: event.seq, statements };
      };
      // The first append of a store reads the head: read, move, insert.
      expect(await append(counted, 'first')).toEqual({ seq: 1, statements: 3 });
      // Its guess holds: the conditional move and the insert.
      expect(await append(counted, 'second')).toEqual({ seq: 2, statements: 2 });
      expect(await append(counted, 'third')).toEqual({ seq: 3, statements: 2 });
      // Another process (here another store) appends: the guess no longer holds, so the move changes
      // nothing, and the head is read as before: four statements, the event still links to seq 4.
      await other.audit.append({ type: 'elsewhere', outcome: 'success', at: T0 });
      expect(await append(counted, 'after elsewhere')).toEqual({ seq: 5, statements: 4 });
      expect(await append(counted, 'again')).toEqual({ seq: 6, statements: 2 });
      // In a transaction the store's guess is the same one.
      statements = 0;
      await counted.transaction(async (tx) => {
        await tx.audit.append({ type: 'in a transaction', outcome: 'success', at: T0 });
      });
      expect(statements).toBe(2);
      const stored = await store.audit.scan(1, 100);
      expect(stored.map((e) => e.type)).toEqual(['first', 'second', 'third', 'elsewhere', 'after elsewhere', 'again', 'in a transaction']);
      expect(verifyChain(chained(stored))).toEqual({ ok: true, checked: 7 });
    });

    it('two stores appending at once (two instances) keep one gapless chain', async () => {
      const stores = [createStore(db), createStore(db)];
      await Promise.all(
        stores.flatMap((s, i) => Array.from({ length: 20 }, (_, j) => s.audit.append({ type: `store ${i}`, outcome: 'success', at: T0 + j, details: { j } }))),
      );
      // Then each in turn, so that each one's guess is stale at least once more.
      for (let round = 0; round < 3; round++) for (const s of stores) await s.audit.append({ type: 'in turn', outcome: 'success', at: T0 + 100 + round });
      const stored = await store.audit.scan(1, 100);
      expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 46 }, (_, i) => i + 1));
      expect(verifyChain(chained(stored))).toEqual({ ok: true, checked: 46 });
      expect(await store.audit.head()).toMatchObject({ seq: 46, hash: stored[45]!.hash });
    });

    it('lists newest first, by account, before a sequence number, up to a limit', async () => {
      await appendMany(9, ['acc-a', 'acc-b', null]);
      const seqs = (events: AuditEvent[]) => events.map((e) => e.seq);
      expect(seqs(await store.audit.list({ limit: 100 }))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect(seqs(await store.audit.list({ limit: 3 }))).toEqual([9, 8, 7]);
      expect(seqs(await store.audit.list({ accountId: 'acc-a', limit: 100 }))).toEqual([7, 4, 1]);
      expect(seqs(await store.audit.list({ accountId: 'acc-b', limit: 1 }))).toEqual([8]);
      expect(seqs(await store.audit.list({ limit: 2, beforeSeq: 6 }))).toEqual([5, 4]);
      expect(seqs(await store.audit.list({ accountId: 'acc-a', limit: 100, beforeSeq: 7 }))).toEqual([4, 1]);
      expect(await store.audit.list({ accountId: 'nobody', limit: 100 })).toEqual([]);
    });

    it('gives the risk signals the fields they read of an account\'s latest events, newest first, as the whole details say', async () => {
      const ua = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0';
      const place = { country: 'GB', city: 'London', lat: 51.5, lon: -0.13 };
      const inputs = [
        // Recorded by the risk engine: device and place come from its details.
        { type: 'sign_in', outcome: 'success' as const, details: { method: 'passkey', passkey: 'pk-1', risk: { decision: 'allow', device: 'Chrome on Linux', place } } },
        // Assessed, but no browser family and no place: both null, and the user agent is not needed.
        { type: 'sign_in', outcome: 'success' as const, details: { passkey: 'pk-2', risk: { device: null, place: null } } },
        // Before the risk engine: no `risk`, so the user agent stands for the device.
        { type: 'sign_in', outcome: 'failure' as const, reason: 'passkey_unknown', details: { passkey: 42 } },
        // `risk` that is not an object, a device with characters JSON escapes.
        { type: 'sign_in', outcome: 'success' as const, details: { risk: 'odd', passkey: 'pk-"3"' } },
        { type: 'sign_in', outcome: 'success' as const, details: { risk: { device: 'Edge "beta" \\ é', place: { country: 'FR', city: null, lat: null, lon: null } } } },
        { type: 'code.delivery', outcome: 'failure' as const, reason: 'sms_sim_changed', details: { simChangedAt: '2026-12-01T10:00:00.000Z' } },
        { type: 'code.delivery', outcome: 'failure' as const, reason: 'sms_sim_changed', details: { simChangedAt: 7 } },
      ];
      for (const [i, e] of inputs.entries()) {
        await store.audit.append({ ...e, accountId: 'acc-r', at: T0 + i, context: { ip: '192.0.2.1', userAgent: ua } });
        await store.audit.append({ type: 'sign_in', outcome: 'success', accountId: 'acc-other', at: T0 + i, details: { passkey: 'theirs' } });
      }
      const recent = await store.audit.recentForRisk('acc-r', 50);
      expect(recent).toEqual([
        { at: T0 + 6, type: 'code.delivery', outcome: 'failure', reason: 'sms_sim_changed', passkey: null, device: undefined, userAgent: ua, place: undefined, simChangedAt: null },
        { at: T0 + 5, type: 'code.delivery', outcome: 'failure', reason: 'sms_sim_changed', passkey: null, device: undefined, userAgent: ua, place: undefined, simChangedAt: '2026-12-01T10:00:00.000Z' },
        { at: T0 + 4, type: 'sign_in', outcome: 'success', reason: null, passkey: null, device: 'Edge "beta" \\ é', userAgent: null, place: { country: 'FR', city: null, lat: null, lon: null }, simChangedAt: null },
        { at: T0 + 3, type: 'sign_in', outcome: 'success', reason: null, passkey: 'pk-"3"', device: undefined, userAgent: ua, place: undefined, simChangedAt: null },
        { at: T0 + 2, type: 'sign_in', outcome: 'failure', reason: 'passkey_unknown', passkey: null, device: undefined, userAgent: ua, place: undefined, simChangedAt: null },
        { at: T0 + 1, type: 'sign_in', outcome: 'success', reason: null, passkey: 'pk-2', device: null, userAgent: null, place: null, simChangedAt: null },
        { at: T0, type: 'sign_in', outcome: 'success', reason: null, passkey: 'pk-1', device: 'Chrome on Linux', userAgent: null, place, simChangedAt: null },
      ]);
      // The same fields as the whole stored details give them.
      const whole = await store.audit.list({ accountId: 'acc-r', limit: 50 });
      expect(recent.map((r) => r.passkey)).toEqual(whole.map((e) => (typeof e.details.passkey === 'string' ? e.details.passkey : null)));
      expect((await store.audit.recentForRisk('acc-r', 2)).map((r) => r.at)).toEqual([T0 + 6, T0 + 5]);
      expect(await store.audit.recentForRisk('nobody', 50)).toEqual([]);
    });

    it('anchors each event and the head under the anchor key, in the same transaction', async () => {
      const anchor = auditAnchorKey([{ id: 'k1', key: new Uint8Array(32).fill(3) }]);
      const anchored = createStore(db, { auditAnchor: anchor });
      expect(await anchored.audit.head()).toEqual({ seq: 0, hash: '', mac: null });
      const first = await anchored.audit.append({ type: 'a', outcome: 'success', at: T0 });
      await expect(
        anchored.transaction(async (tx) => {
          await tx.audit.append({ type: 'doomed', outcome: 'success', at: T0 + 1 });
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      const second = await anchored.audit.append({ type: 'b', outcome: 'success', at: T0 + 2 });
      expect(first.mac).toMatch(/^k1\./);
      expect(anchor.check('event', 1, first.hash, first.mac!)).toBe('valid');
      expect(anchor.check('event', 2, second.hash, second.mac!)).toBe('valid');
      const head = await anchored.audit.head();
      expect(head).toMatchObject({ seq: 2, hash: second.hash });
      expect(anchor.check('head', 2, second.hash, head.mac!)).toBe('valid');
      // An event's MAC never stands in for the head's.
      expect(anchor.check('head', 2, second.hash, second.mac!)).toBe('invalid');
      expect(await anchored.audit.scan(1, 10)).toEqual([first, second]);
    });

    it('lists by type, type prefix and time', async () => {
      for (const [i, type] of ['account.created', 'account.role_changed', 'accounts_x', 'passkey.flagged'].entries()) {
        await store.audit.append({ type, outcome: 'success', at: T0 + i * 1000 });
      }
      const types = async (filter: Parameters<Store['audit']['list']>[0]) => (await store.audit.list(filter)).map((e) => e.type);
      expect(await types({ limit: 10, type: 'account.created' })).toEqual(['account.created']);
      expect(await types({ limit: 10, typePrefix: 'account.' })).toEqual(['account.role_changed', 'account.created']);
      expect(await types({ limit: 10, typePrefix: 'account_' })).toEqual([]);
      expect(await types({ limit: 10, since: T0 + 2000 })).toEqual(['passkey.flagged', 'accounts_x']);
    });

    it('scans in pages that join into the whole chain', async () => {
      const all = await appendMany(7);
      const pages: AuditEvent[][] = [];
      let from = 1;
      for (;;) {
        const page = await store.audit.scan(from, 3);
        if (page.length === 0) break;
        pages.push(page);
        from = page[page.length - 1]!.seq + 1;
      }
      expect(pages.map((p) => p.map((e) => e.seq))).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
      expect(pages.flat()).toEqual(all);
      // Each page verifies on its own, continuing from the last event of the page before.
      const second = pages[1]!;
      expect(verifyChain(chained(second), { seq: 3, hash: all[2]!.hash })).toEqual({ ok: true, checked: 3 });
      expect(await store.audit.scan(8, 10)).toEqual([]);
    });
  });

  describe('rate limits', () => {
    it('counts hits within a window and restarts in a new one', async () => {
      const w1 = T0;
      const w2 = T0 + MINUTE;
      expect(await store.rateLimits.hit('ip:192.0.2.1', w1)).toBe(1);
      expect(await store.rateLimits.hit('ip:192.0.2.1', w1)).toBe(2);
      expect(await store.rateLimits.hit('ip:192.0.2.1', w1)).toBe(3);
      expect(await store.rateLimits.hit('ip:192.0.2.2', w1)).toBe(1);
      expect(await store.rateLimits.hit('ip:192.0.2.1', w2)).toBe(1);
      expect(await store.rateLimits.hit('ip:192.0.2.1', w2)).toBe(2);
      expect(await store.rateLimits.hit('ip:192.0.2.2', w1)).toBe(2);
    });

    it('purges windows older than the cut-off', async () => {
      await store.rateLimits.hit('old', T0);
      await store.rateLimits.hit('old', T0);
      await store.rateLimits.hit('edge', T0 + MINUTE);
      await store.rateLimits.hit('new', T0 + 2 * MINUTE);
      expect(await store.rateLimits.purge(T0 + MINUTE)).toBe(1);
      expect(await store.rateLimits.purge(T0 + MINUTE)).toBe(0);
      // A purged key starts over even in its old window; the others kept their counts.
      expect(await store.rateLimits.hit('old', T0)).toBe(1);
      expect(await store.rateLimits.hit('edge', T0 + MINUTE)).toBe(2);
      expect(await store.rateLimits.hit('new', T0 + 2 * MINUTE)).toBe(2);
    });
  });

  describe('settings', () => {
    it('put replaces a value', async () => {
      await store.settings.put('server.public_url', 'http://localhost:9000');
      await store.settings.put('server.public_url', 'https://id.example.test');
      expect(await store.settings.get('server.public_url')).toBe('https://id.example.test');
    });

    it('getOrCreate keeps the first value', async () => {
      expect(await store.settings.get('stand-in-key')).toBeUndefined();
      expect(await store.settings.getOrCreate('stand-in-key', 'first')).toBe('first');
      expect(await store.settings.getOrCreate('stand-in-key', 'second')).toBe('first');
      expect(await store.settings.get('stand-in-key')).toBe('first');
      expect(await store.settings.getOrCreate('other', 'x')).toBe('x');
    });

    it('getOrCreate racing from many callers stores one value that all of them get', async () => {
      const values = await Promise.all(Array.from({ length: 20 }, (_, i) => store.settings.getOrCreate('race', `v${i}`)));
      expect(new Set(values).size).toBe(1);
      expect(await store.settings.get('race')).toBe(values[0]);
    });
  });

  describe('transactions', () => {
    it('a thrown error rolls back every write of every port', async () => {
      const a = anAccount();
      await store.accounts.create(a);
      const inv = anInvitation(a.id);
      await store.invitations.create(inv);
      const p = aPasskey(a.id);
      const q = aPasskey(a.id);
      await store.passkeys.insert(p);
      await store.passkeys.insert(q);
      const c = aCeremony();
      await store.ceremonies.create(c);
      const s = aSession(a.id);
      const t = aSession(a.id);
      await store.sessions.create(s);
      await store.sessions.create(t);
      await store.audit.append({ type: 'before', outcome: 'success', at: T0 });
      await store.rateLimits.hit('k', T0);
      await store.settings.getOrCreate('kept', 'v');

      const failure = new Error('boom');
      const newAccount = anAccount();
      const newPasskey = aPasskey(a.id);
      const newCeremony = aCeremony();
      const newSession = aSession(a.id);
      const newInvitation = anInvitation(a.id);
      await expect(
        store.transaction(async (tx) => {
          expect(await tx.accounts.create(newAccount)).toBe(true);
          expect(await tx.accounts.setStatus(a.id, 'suspended', T0 + 1)).toBe(true);
          expect(await tx.accounts.setRole(a.id, 'admin', T0 + 1)).toBe(true);
          await tx.accounts.lock(a.id);
          await tx.invitations.create(newInvitation);
          expect(await tx.invitations.consume(inv.id, T0 + 1)).toBe(true);
          await tx.invitations.revokeForAccount(a.id, T0 + 2);
          expect(await tx.passkeys.insert(newPasskey)).toBe(true);
          expect(await tx.passkeys.recordUse(p.id, { expectedSignCount: 0, signCount: 9, backupState: true, now: T0 + 1 })).toBe(true);
          await tx.passkeys.flag(p.id, 'x');
          expect(await tx.passkeys.rename(a.id, p.id, 'renamed')).toBe(true);
          expect(await tx.passkeys.remove(a.id, q.id)).toBe(true);
          await tx.ceremonies.create(newCeremony);
          expect(await tx.ceremonies.consume(c.challengeHash)).toEqual(c);
          expect(await tx.ceremonies.purgeExpired(T0 + HOUR)).toBe(1);
          await tx.sessions.create(newSession);
          await tx.sessions.touch(s.id, T0 + 1, T0 + 2 * HOUR);
          expect(await tx.sessions.revoke(a.id, t.id, T0 + 1)).toBe(true);
          expect(await tx.sessions.revokeAllForAccount(a.id, T0 + 1)).toBe(2);
          await tx.audit.append({ type: 'inside', outcome: 'success', at: T0 + 1 });
          expect(await tx.rateLimits.hit('k', T0)).toBe(2);
          expect(await tx.rateLimits.hit('k2', T0)).toBe(1);
          expect(await tx.rateLimits.purge(T0 + 1)).toBe(2);
          expect(await tx.settings.getOrCreate('new', 'v')).toBe('v');
          // A nested transaction joins the outer one and rolls back with it.
          await tx.transaction(async (inner) => inner.audit.append({ type: 'nested', outcome: 'success', at: T0 + 1 }));
          throw failure;
        }),
      ).rejects.toBe(failure);

      expect(await store.accounts.list()).toEqual([a]);
      expect(await store.invitations.find(inv.id)).toEqual(inv);
      expect(await store.invitations.find(newInvitation.id)).toBeUndefined();
      expect(await store.passkeys.listByAccount(a.id)).toEqual([p, q]);
      expect(await store.ceremonies.consume(newCeremony.challengeHash)).toBeUndefined();
      expect(await store.ceremonies.consume(c.challengeHash)).toEqual(c);
      expect(await store.sessions.findById(newSession.id)).toBeUndefined();
      expect(await store.sessions.findById(s.id)).toEqual(s);
      expect(await store.sessions.findById(t.id)).toEqual(t);
      expect((await store.audit.scan(1, 100)).map((e) => e.type)).toEqual(['before']);
      expect(await store.rateLimits.hit('k', T0)).toBe(2);
      expect(await store.rateLimits.hit('k2', T0)).toBe(1);
      expect(await store.settings.get('new')).toBeUndefined();
      expect(await store.settings.get('kept')).toBe('v');
      expect((await store.audit.append({ type: 'after', outcome: 'success', at: T0 + 2 })).seq).toBe(2);
    });

    it('commits every write and returns the result of the work', async () => {
      const a = anAccount();
      const result = await store.transaction(async (tx) => {
        await tx.accounts.create(a);
        await tx.audit.append({ type: 'account.created', outcome: 'success', accountId: a.id, at: T0 });
        return 'done';
      });
      expect(result).toBe('done');
      expect(await store.accounts.findById(a.id)).toEqual(a);
      expect(await store.audit.list({ accountId: a.id, limit: 10 })).toHaveLength(1);
    });

    it('ping answers and schemaVersion is the latest migration', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      expect(await store.schemaVersion()).toBe(LATEST_VERSION);
    });
  });

  describe('concurrency', () => {
    it('50 parallel consumes of one ceremony: exactly one gets it', async () => {
      const c = aCeremony();
      await store.ceremonies.create(c);
      const results = await Promise.all(Array.from({ length: 50 }, () => store.ceremonies.consume(c.challengeHash)));
      expect(results.filter((r) => r !== undefined)).toEqual([c]);
    });

    it('50 parallel consumes of one invitation: exactly one succeeds', async () => {
      const a = anAccount();
      await store.accounts.create(a);
      const inv = anInvitation(a.id);
      await store.invitations.create(inv);
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.invitations.consume(inv.id, T0 + 1 + i)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await store.invitations.find(inv.id))?.usedAt).toBe(T0 + 1 + winner);
    });

    it('30 parallel appends: sequence 1..30 without gaps, chain intact', async () => {
      const events = await Promise.all(Array.from({ length: 30 }, (_, i) => store.audit.append({ type: 'race', outcome: 'success', at: T0 + i, details: { i } })));
      expect(events.map((e) => e.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      const stored = await store.audit.scan(1, 100);
      expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(verifyChain(chained(stored))).toEqual({ ok: true, checked: 30 });
      expect(new Set(stored.map((e) => e.details.i)).size).toBe(30);
    });

    it('50 parallel hits on one key count exactly 1..50', async () => {
      const counts = await Promise.all(Array.from({ length: 50 }, () => store.rateLimits.hit('ip:198.51.100.7', T0)));
      expect(counts.sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it('20 parallel recordUse from the same sign count: exactly one is recorded', async () => {
      const a = anAccount();
      await store.accounts.create(a);
      const p = aPasskey(a.id, { signCount: 10 });
      await store.passkeys.insert(p);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.passkeys.recordUse(p.id, { expectedSignCount: 10, signCount: 11 + i, backupState: false, now: T0 + i })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.passkeys.findById(p.id))?.signCount).toBe(11 + results.indexOf(true));
    });

    it('20 parallel creates of one username: exactly one succeeds', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => store.accounts.create(anAccount({ username: 'same' }))));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.accounts.count()).toBe(1);
    });
  });

  describe('migrations', () => {
    it('an up-to-date database applies nothing', async () => {
      expect(await migrate(db)).toEqual([]);
      expect(await store.schemaVersion()).toBe(LATEST_VERSION);
      const { rows } = await sql<{ version: number }>`select version from schema_migrations order by version`.execute(db.kysely);
      expect(rows.map((r) => Number(r.version))).toEqual(ALL_VERSIONS);
    });

    it('instances migrating one fresh database at the same moment: one applies, the others wait and apply nothing', async () => {
      const target = await freshDatabase(backend);
      const handles = Array.from({ length: backend === 'postgres' ? 4 : 3 }, () => openDatabase(target.url));
      try {
        expect(await createStore(handles[0]!).schemaVersion()).toBe(0);
        const applied = await Promise.all(handles.map((h) => migrate(h, T0)));
        expect(applied.filter((a) => a.length > 0)).toEqual([ALL_VERSIONS]);
        expect(applied.filter((a) => a.length === 0)).toHaveLength(handles.length - 1);
        for (const h of handles) expect(await createStore(h).schemaVersion()).toBe(LATEST_VERSION);
        const { rows } = await sql<{ version: number }>`select version from schema_migrations`.execute(handles[0]!.kysely);
        expect(rows).toHaveLength(ALL_VERSIONS.length);
        // The schema works from every handle.
        expect(await createStore(handles[1]!).accounts.create(anAccount())).toBe(true);
        expect(await createStore(handles[2]!).accounts.count()).toBe(1);
      } finally {
        for (const h of handles) await h.close();
        await target.drop();
      }
    });

    it.runIf(backend === 'sqlite')('instances in separate processes migrating one fresh file together: one applies, the others apply nothing', async () => {
      const target = await freshDatabase(backend);
      try {
        const applied = await migrateInProcesses(target.url, 3);
        expect(applied.filter((a) => a.length > 0)).toEqual([ALL_VERSIONS]);
        expect(applied.filter((a) => a.length === 0)).toHaveLength(2);
        const check = openDatabase(target.url);
        expect(await createStore(check).schemaVersion()).toBe(LATEST_VERSION);
        await check.close();
      } finally {
        await target.drop();
      }
    });
  });
});
