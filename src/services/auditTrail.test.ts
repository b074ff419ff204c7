import { describe, expect, it } from 'vitest';
import { auditAnchorKey } from '../core/audit/anchor.ts';
import { openDatabase } from '../store/db.ts';
import { createStore, type Store } from '../store/index.ts';
import { migrate } from '../store/migrate.ts';
import { verifyAuditTrail } from './auditTrail.ts';

const k1 = { id: 'k1', key: new Uint8Array(32).fill(1) };
const k2 = { id: 'k2', key: new Uint8Array(32).fill(2) };

async function trail(keys: (typeof k1)[], events: number): Promise<{ store: Store; close: () => Promise<void> }> {
  const db = openDatabase('sqlite::memory:');
  await migrate(db);
  const store = createStore(db, { auditAnchor: auditAnchorKey(keys) });
  for (let i = 0; i < events; i++) await store.audit.append({ type: 'test', outcome: 'success', at: i });
  return { store, close: () => db.close() };
}

describe('verifyAuditTrail', () => {
  it('accepts events a server appends while it runs (the head is read first)', async () => {
    const { store, close } = await trail([k1], 3);
    const busy: Store = {
      ...store,
      audit: {
        ...store.audit,
        append: store.audit.append.bind(store.audit),
        list: store.audit.list.bind(store.audit),
        scan: store.audit.scan.bind(store.audit),
        head: async () => {
          const head = await store.audit.head();
          await store.audit.append({ type: 'meanwhile', outcome: 'success', at: 9 });
          return head;
        },
      },
    };
    expect(await verifyAuditTrail(busy, auditAnchorKey([k1]))).toEqual({ ok: true, checked: 4, chainedOnly: 0 });
    await close();
  });

  it('verifies across a data key rotation, and names a key that is no longer configured', async () => {
    const db = openDatabase('sqlite::memory:');
    await migrate(db);
    await createStore(db, { auditAnchor: auditAnchorKey([k1]) }).audit.append({ type: 'before', outcome: 'success', at: 1 });
    // Rotated: k2 anchors from now on, k1 is kept to verify what it anchored.
    const store = createStore(db, { auditAnchor: auditAnchorKey([k2, k1]) });
    expect((await store.audit.append({ type: 'after', outcome: 'success', at: 2 })).mac).toMatch(/^k2\./);
    expect(await verifyAuditTrail(store, auditAnchorKey([k2, k1]))).toEqual({ ok: true, checked: 2, chainedOnly: 0 });
    const dropped = await verifyAuditTrail(store, auditAnchorKey([k2]));
    expect(dropped).toMatchObject({ ok: false, position: 1 });
    expect(!dropped.ok && dropped.problem).toMatch(/data key k1, which is not configured/);
    await db.close();
  });
});
