/**
 * A passkey sign-in reads its ceremony first and consumes it where it is acted on: in the
 * transaction that issues the session, in the one that disables a passkey whose counter went
 * backwards, or before a refusal is answered (services/passkeys/authentication.ts). One-time still
 * means once (DESIGN.md principle 4), and these are the cases that would show otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/core/tokens.ts';
import { BACKENDS } from '../helpers/db.ts';
import { enrol, startTestApp, type TestApp } from '../helpers/app.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';

const OPTIONS = '/api/v1/passkeys/authentication/options';
const VERIFY = '/api/v1/passkeys/authentication/verify';

describe.each(BACKENDS)('a sign-in challenge is used once (%s)', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ backend });
  });
  afterAll(async () => t?.close());

  it('a refused answer takes its challenge: the genuine answer to it afterwards is refused too', async () => {
    const { authenticator } = await enrol(t, 'refused-once');
    const options = (await t.post(OPTIONS, {})).json();
    const forged = await t.post(VERIFY, { response: authenticator.get(options, { badSignature: true }) });
    expect(forged.json().error).toBe('passkey_signature_invalid');
    const genuine = await t.post(VERIFY, { response: authenticator.get(options) });
    expect(genuine.statusCode).toBe(400);
    expect(genuine.json().error).toBe('passkey_challenge_unknown');
  });

  it('a refusal before the session transaction (the account suspended) takes the challenge as well', async () => {
    const { authenticator, account } = await enrol(t, 'suspended-once');
    const options = (await t.post(OPTIONS, {})).json();
    const answer = authenticator.get(options);
    await t.store.accounts.setStatus(account.id, 'suspended', t.clock.now);
    const refused = await t.post(VERIFY, { response: answer });
    expect(refused.json().error).toBe('account_not_active');
    await t.store.accounts.setStatus(account.id, 'active', t.clock.now);
    // The same answer, now that the account may sign in again, is not judged a second time.
    const again = await t.post(VERIFY, { response: answer });
    expect(again.json().error).toBe('passkey_challenge_unknown');
    expect(await t.store.sessions.countActive(account.id, t.clock.now)).toBe(1);
  });

  it('replays racing the real answer of a counting authenticator: one session, and the passkey is not taken for a clone', async () => {
    const { authenticator, account } = await enrol(t, 'counting-racer', new SoftAuthenticator({ counterStep: 1 }));
    const before = await t.store.sessions.countActive(account.id, t.clock.now);
    const options = (await t.post(OPTIONS, {})).json();
    const answer = authenticator.get(options);
    // Every copy carries the same counter. The first to commit moves the stored counter to it, so a
    // copy checked after that sees a counter that did not grow: only the attempt that took the
    // challenge may call that a clone, and none of these did.
    const responses = await Promise.all(Array.from({ length: 20 }, () => t.post(VERIFY, { response: answer })));
    expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(1);
    for (const r of responses.filter((r) => r.statusCode !== 200)) {
      expect(r.statusCode).toBe(400);
      expect(r.json().error).toBe('passkey_challenge_unknown');
    }
    const [passkey] = await t.store.passkeys.listByAccount(account.id);
    expect(passkey!.status).toBe('active');
    expect(passkey!.signCount).toBe(authenticator.credential.signCount);
    expect(await t.store.sessions.countActive(account.id, t.clock.now)).toBe(before + 1);
    // The passkey still signs in.
    const next = await t.post(VERIFY, { response: authenticator.get((await t.post(OPTIONS, {})).json()) });
    expect(next.statusCode, next.body).toBe(200);
  });

  it('a counter that went backwards on a fresh challenge still flags the passkey, and takes the challenge', async () => {
    const { authenticator, account } = await enrol(t, 'real-clone', new SoftAuthenticator({ counterStep: 1 }));
    const signedIn = await t.post(VERIFY, { response: authenticator.get((await t.post(OPTIONS, {})).json()) });
    expect(signedIn.statusCode).toBe(200);
    authenticator.credential.signCount -= 1;
    const options = (await t.post(OPTIONS, {})).json();
    const answer = authenticator.get(options);
    const cloned = await t.post(VERIFY, { response: answer });
    expect(cloned.json().error).toBe('passkey_sign_count_regressed');
    const [passkey] = await t.store.passkeys.listByAccount(account.id);
    expect(passkey!.status).toBe('flagged');
    const again = await t.post(VERIFY, { response: answer });
    expect(again.json().error).toBe('passkey_challenge_unknown');
  });

  it('a sign-in leaves no pending ceremony behind', async () => {
    const { authenticator } = await enrol(t, 'no-leftovers');
    const options = (await t.post(OPTIONS, {})).json();
    expect(await t.store.ceremonies.find(hashSecret(options.challenge))).toBeDefined();
    expect((await t.post(VERIFY, { response: authenticator.get(options) })).statusCode).toBe(200);
    expect(await t.store.ceremonies.find(hashSecret(options.challenge))).toBeUndefined();
  });
});
