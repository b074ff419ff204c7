/**
 * The takeover-path read port (src/store/sql/pathFacts.ts) on SQLite and PostgreSQL: accounts come
 * in username order a page at a time, each exactly once however small the page; per account only
 * what can still be used counts (active passkeys and code factors, unused codes of the active
 * recovery set, links neither used nor expired); and `analyseAll` walks every page.
 */
import { describe, expect, it } from 'vitest';
import { pendingAuthenticator } from '../../src/codes/factors.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Account, Passkey } from '../../src/core/model.ts';
import { createDeps } from '../../src/runtime.ts';
import { analyseAll } from '../../src/services/paths/analyse.ts';
import type { Store } from '../../src/store/index.ts';
import { BACKENDS, type TestDatabase } from '../helpers/db.ts';
import { TEST_DATA_KEYS } from '../helpers/constants.ts';
import { useFreshStore } from '../helpers/store.ts';

const T0 = Date.UTC(2026, 0, 1);
const account = (n: number, fields: Partial<Account> = {}): Account => ({
  id: `acct-${n}`,
  username: `user${n}`,
  displayName: `User ${n}`,
  role: 'member',
  status: 'active',
  userHandle: `handle-${n}`,
  email: null,
  createdAt: T0,
  ...fields,
});
const passkey = (id: string, accountId: string, fields: Partial<Passkey> = {}): Passkey => ({
  id,
  accountId,
  credentialId: `cred-${id}`,
  publicKey: 'x',
  alg: -7,
  signCount: 0,
  transports: [],
  aaguid: '00000000-0000-0000-0000-000000000000',
  backupEligible: false,
  backupState: false,
  userVerified: true,
  attestationFormat: 'none',
  attestationTrusted: false,
  nickname: id,
  status: 'active',
  flaggedReason: null,
  createdAt: T0,
  lastUsedAt: null,
  ...fields,
});

describe.each(BACKENDS)('path facts store contract on %s', (backend) => {
  let store: Store;
  let database: TestDatabase;
  useFreshStore(backend, (fresh) => ({ store, database } = fresh));

  it('pages accounts in username order, each once, and reads only what can still be used', async () => {
    for (const n of [5, 1, 4, 2, 3]) await store.accounts.create(account(n, n === 1 ? { role: 'admin', email: 'one@example.test' } : {}));
    await store.accounts.create(account(6, { role: 'admin', status: 'suspended' }));
    await store.passkeys.insert(passkey('p1', 'acct-1', { backupEligible: true }));
    await store.passkeys.insert(passkey('p2', 'acct-1', { status: 'disabled' }));
    await store.passkeys.insert(passkey('p3', 'acct-2', { attestationTrusted: true }));
    await store.authenticators.insert({ ...pendingAuthenticator({ id: 'totp-1', accountId: 'acct-1', kind: 'totp', now: T0 }), status: 'active' });
    await store.authenticators.insert(pendingAuthenticator({ id: 'sms-1', accountId: 'acct-1', kind: 'sms_code', now: T0, destination: '+441234567890' }));
    await store.authenticators.insert({ ...pendingAuthenticator({ id: 'rc-2', accountId: 'acct-2', kind: 'recovery_codes', now: T0 }), status: 'active' });
    await store.recoveryCodes.insertSet('rc-2', [1, 2, 3].map((i) => ({ id: `c${i}`, codeHash: `h${i}` })));
    await store.recoveryCodes.markUsed('c1', T0);
    const link = { secretHash: 'h', createdBy: 'test', createdAt: T0, usedAt: null };
    await store.invitations.create({ ...link, id: 'l-live', accountId: 'acct-3', expiresAt: T0 + 3_600_000, kind: 'device', maxAal: 2, passkeyId: null });
    await store.invitations.create({ ...link, id: 'l-old', accountId: 'acct-3', expiresAt: T0 - 1 });

    const seen: string[] = [];
    for (let after: string | null = null; ; ) {
      const page = await store.pathFacts.page(after, 2);
      if (page.length === 0) break;
      seen.push(...page.map((a) => a.username));
      after = page.at(-1)!.username;
    }
    expect(seen).toEqual(['user1', 'user2', 'user3', 'user4', 'user5', 'user6']);
    expect(await store.pathFacts.countActiveAdmins()).toBe(1);

    const facts = await store.pathFacts.load(await store.pathFacts.page(null, 3), T0);
    expect(facts).toEqual([
      { username: 'user1', role: 'admin', status: 'active', passkeys: [{ id: 'p1', nickname: 'p1', backupEligible: true, userVerified: true, attestationTrusted: false }], codeFactors: [{ factor: 'totp', destination: null }], recoveryCodes: 0, links: [], noticeChannel: true },
      { username: 'user2', role: 'member', status: 'active', passkeys: [{ id: 'p3', nickname: 'p3', backupEligible: false, userVerified: true, attestationTrusted: true }], codeFactors: [], recoveryCodes: 2, links: [], noticeChannel: false },
      { username: 'user3', role: 'member', status: 'active', passkeys: [], codeFactors: [], recoveryCodes: 0, links: [{ id: 'l-live', kind: 'device', maxAal: 2 }], noticeChannel: false },
    ]);
    expect(await store.pathFacts.load([], T0)).toEqual([]);
  });

  it('analyseAll walks every page', async () => {
    for (let n = 1; n <= 7; n++) await store.accounts.create(account(n));
    const config = loadConfig({ KEYBOUND_DATABASE_URL: database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS });
    const deps = await createDeps({ config, store, clock: () => T0, log: { warn: () => undefined } });
    const analysed: string[] = [];
    const summary = await analyseAll(deps, { batch: 3, onAnalysis: (a) => analysed.push(a.account) });
    expect(analysed).toEqual(['user1', 'user2', 'user3', 'user4', 'user5', 'user6', 'user7']);
    expect(summary.roles.find((r) => r.role === 'member')).toMatchObject({ accounts: 7, byEffectiveAcr: { none: 7 }, belowRequired: 0 });
  });
});
