import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite } from '../../src/services/invitations.ts';
import { BACKENDS } from '../helpers/db.ts';
import { enrol, startTestApp, type TestApp } from '../helpers/app.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';

/** One-time means once (DESIGN.md principle 4), under real parallel load on both backends. */
describe.each(BACKENDS)('one-time values under concurrency on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ backend });
  });
  afterAll(async () => t?.close());

  it('50 parallel verifications of one assertion yield exactly one session', async () => {
    const { authenticator, account } = await enrol(t, 'racer');
    const sessionsBefore = (await t.store.sessions.listActive(account.id, t.clock.now)).length;
    const options = await t.post('/api/v1/passkeys/authentication/options', {});
    const assertion = authenticator.get(options.json());
    const responses = await Promise.all(Array.from({ length: 50 }, () => t.post('/api/v1/passkeys/authentication/verify', { response: assertion })));
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.statusCode !== 200).every((r) => r.json().error === 'passkey_challenge_unknown')).toBe(true);
    expect(statuses.some((s) => s >= 500)).toBe(false);
    const sessionsAfter = await t.store.sessions.listActive(account.id, t.clock.now);
    expect(sessionsAfter.length - sessionsBefore).toBe(1);
  });

  it('20 parallel registrations with one enrolment token yield exactly one passkey', async () => {
    const invited = await invite(t.deps, { username: 'one-link', createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    const attempts = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const options = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: invited.value.token });
        expect(options.statusCode).toBe(200);
        return new SoftAuthenticator().create(options.json());
      }),
    );
    const responses = await Promise.all(attempts.map((response) => t.post('/api/v1/passkeys/registration/verify', { response })));
    expect(responses.filter((r) => r.statusCode === 201)).toHaveLength(1);
    for (const r of responses.filter((r) => r.statusCode !== 201)) {
      expect(r.statusCode).toBeLessThan(500);
      expect(r.json().error).toBe('enrolment_token_used');
    }
    expect(await t.store.passkeys.listByAccount(invited.value.account.id)).toHaveLength(1);
    expect((await t.store.accounts.findById(invited.value.account.id))?.status).toBe('active');
    expect((await t.store.sessions.listActive(invited.value.account.id, t.clock.now)).length).toBe(1);
  });

  it('passkeys whose counter stays 0 sign in again and again', async () => {
    const { authenticator } = await enrol(t, 'zero-counter', new SoftAuthenticator({ counterStep: 0 }));
    for (let i = 0; i < 3; i++) {
      const options = await t.post('/api/v1/passkeys/authentication/options', {});
      const response = await t.post('/api/v1/passkeys/authentication/verify', { response: authenticator.get(options.json()) });
      expect(response.statusCode, response.body).toBe(200);
    }
  });
});
