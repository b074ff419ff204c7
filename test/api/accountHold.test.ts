/**
 * completeSignIn holds the account row for the whole transaction that issues a session
 * (store `accounts.lock`), and reads its status under that hold:
 *  - concurrent sign-ins of one account count its live sessions one after another, so the
 *    per-account limit (ASVS 5.0 7.1.2) holds under a burst, not only one sign-in at a time;
 *  - an account whose status changed after the sign-in read it (suspended between the passkey check
 *    and the session write) gets no session.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { completeSignIn } from '../../src/services/signIn.ts';
import { BACKENDS } from '../helpers/db.ts';
import { enrol, startTestApp, type TestApp } from '../helpers/app.ts';

const PASSKEY = { kind: 'passkey', userPresent: true, userVerified: true, backupEligible: false, attestationTrusted: false } as const;
const CONTEXT = { ip: '127.0.0.1', userAgent: 'test' };

describe.each(BACKENDS)('the account held while a session is issued (%s)', (backend) => {
  let t: TestApp | undefined;
  afterEach(async () => t?.close());

  it('ASVS 7.1.2: twelve simultaneous sign-ins of one account leave at most the limit of live sessions', async () => {
    t = await startTestApp({ backend, env: { KEYBOUND_SESSION_MAX_PER_ACCOUNT: '3' } });
    const app = t;
    const enrolled = await enrol(app, 'burst');
    const account = (await app.store.accounts.findById(enrolled.account.id))!;
    // Straight into the one function that issues sessions, twelve at once: the passkey path would
    // serialise them on its own sign-counter row, hiding the race this is about.
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        completeSignIn(app.deps, { account, method: 'passkey', factors: [PASSKEY], passkeyId: null, context: CONTEXT }),
      ),
    );
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(results.map(() => 'ok'));
    expect(await app.store.sessions.countActive(account.id, app.clock.now)).toBe(3);
    // Every sign-in at the limit ended exactly one older session: 13 issued, 3 left, 10 ended.
    const ended = (await app.store.audit.list({ accountId: account.id, limit: 100 })).filter((e) => e.type === 'session.revoked' && e.reason === 'session_limit');
    expect(ended).toHaveLength(10);
  });

  it('an account suspended after the sign-in read it gets no session', async () => {
    t = await startTestApp({ backend });
    const { account } = await enrol(t, 'stale-read');
    const before = await t.store.sessions.countActive(account.id, t.clock.now);
    // The sign-in read the account while it was active; it was suspended before the session was written.
    const read = (await t.store.accounts.findById(account.id))!;
    expect(read.status).toBe('active');
    await t.store.accounts.setStatus(account.id, 'suspended', t.clock.now);
    const result = await completeSignIn(t.deps, {
      account: read,
      method: 'passkey',
      factors: [PASSKEY],
      passkeyId: null,
      context: CONTEXT,
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.code).toBe('account_not_active');
    expect(await t.store.sessions.countActive(account.id, t.clock.now)).toBe(before);
  });
});
