/**
 * Size limits on what Keybound accepts and stores (issue 5, "Limits"): credential ids of 1023 bytes
 * work and of 1024 are refused (WebAuthn §5.8.3 / §6.5.1); usernames, nicknames, display names and
 * email addresses past their bounds are refused; and after requests carrying the longest values a
 * client can send (headers at the 16 KiB limit included), no stored string is longer than its bound.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite, MAX_DISPLAY_NAME, MAX_EMAIL } from '../../src/services/invitations.ts';
import { enrol, ORIGIN, startTestApp, type TestApp } from '../helpers/app.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { expectStringsWithinBounds } from './support/bounds.ts';
import { record, Tally } from './support/report.ts';

describe('size limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { KEYBOUND_TRUST_PROXY: 'true' } });
  });
  afterAll(async () => t?.close());

  // The longest values the headers can carry (under the 16 KiB header limit).
  const hostileHeaders = { origin: ORIGIN, 'content-type': 'application/json', 'user-agent': 'u'.repeat(7000), 'x-forwarded-for': `${'f'.repeat(3000)}, ${'9'.repeat(3000)}` };
  let lastMs = 0;
  const timed = async <T>(work: Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work;
    lastMs = performance.now() - started;
    return result;
  };
  const post = (url: string, body: unknown, cookie?: string) => timed(t.app.inject({ method: 'POST', url, payload: JSON.stringify(body), headers: { ...hostileHeaders, ...(cookie ? { cookie } : {}) } }));

  it('accepts a credential id of 1023 bytes and refuses one of 1024', async ({ task }) => {
    const tally = new Tally();
    for (const [length, expected] of [
      [1023, 201],
      [1024, 400],
    ] as const) {
      const invited = await invite(t.deps, { username: `cred-${length}`, createdBy: 'test' });
      if (!invited.ok) throw new Error(invited.code);
      const options = await post('/api/v1/passkeys/registration/options', { enrolmentToken: invited.value.token });
      const authenticator = new SoftAuthenticator();
      const verify = await post('/api/v1/passkeys/registration/verify', { response: authenticator.create(options.json(), { credentialId: new Uint8Array(length).fill(7 + length) }), nickname: '🔑'.repeat(64) });
      tally.requests += 2;
      expect(verify.statusCode, verify.body).toBe(expected);
      if (expected === 201) {
        tally.acknowledged++;
        expect(verify.json().passkey.nickname).toBe('🔑'.repeat(64));
        const signInOptions = await post('/api/v1/passkeys/authentication/options', { username: `cred-${length}` });
        const signedIn = await post('/api/v1/passkeys/authentication/verify', { response: authenticator.get(signInOptions.json()) });
        tally.requests += 2;
        expect(signedIn.statusCode, signedIn.body).toBe(200);
        tally.acknowledged++;
      } else {
        tally.badInput(verify.statusCode, lastMs);
        expect(verify.json().error).toBe('invalid_request');
      }
    }
    // An assertion naming a 1024-byte credential is refused at the edge too.
    const options = await post('/api/v1/passkeys/authentication/options', {});
    const long = new SoftAuthenticator();
    long.create({ challenge: 'AAAA', user: { id: 'AAAA' } });
    const refused = await post('/api/v1/passkeys/authentication/verify', { response: long.get(options.json(), { credentialId: new Uint8Array(1024) }) });
    tally.requests += 2;
    tally.badInput(refused.statusCode, lastMs);
    expect([refused.statusCode, refused.json().error]).toEqual([400, 'invalid_request']);
    record(task, tally.figures());
  });

  it('refuses usernames, nicknames, display names and email addresses past their bounds', async ({ task }) => {
    const tally = new Tally();
    const { cookie, body } = await enrol(t, 'bounded');
    const fresh = cookie;
    const cases: [string, () => Promise<{ statusCode: number; json(): any }>][] = [
      ['username of 65 characters', () => post('/api/v1/passkeys/authentication/options', { username: 'a'.repeat(65) })],
      ['nickname of 65 characters at enrolment', async () => {
        const invited = await invite(t.deps, { username: 'long-nick', createdBy: 'test' });
        if (!invited.ok) throw new Error(invited.code);
        const options = await post('/api/v1/passkeys/registration/options', { enrolmentToken: invited.value.token });
        return post('/api/v1/passkeys/registration/verify', { response: new SoftAuthenticator().create(options.json()), nickname: 'n'.repeat(65) });
      }],
      ['nickname of 65 characters on rename', () => t.app.inject({ method: 'PATCH', url: `/api/v1/passkeys/${body.passkey.id}`, payload: { nickname: 'n'.repeat(65) }, headers: { origin: ORIGIN, cookie: fresh } })],
      ['nickname with control characters', () => t.app.inject({ method: 'PATCH', url: `/api/v1/passkeys/${body.passkey.id}`, payload: { nickname: 'a\u0000b' }, headers: { origin: ORIGIN, cookie: fresh } })],
    ];
    for (const [name, send] of cases) {
      const answer = await timed(send());
      tally.requests++;
      tally.badInput(answer.statusCode, lastMs);
      expect([answer.statusCode, answer.json().error], name).toEqual([400, 'invalid_request']);
    }
    const renamed = await t.app.inject({ method: 'PATCH', url: `/api/v1/passkeys/${body.passkey.id}`, payload: { nickname: 'é'.repeat(64) }, headers: { origin: ORIGIN, cookie: fresh } });
    expect(renamed.statusCode).toBe(204);
    // Invitations (the CLI's input): display name and email address.
    const tooLongName = await invite(t.deps, { username: 'long-name', displayName: 'd'.repeat(MAX_DISPLAY_NAME + 1), createdBy: 'test' });
    const tooLongEmail = await invite(t.deps, { username: 'long-mail', email: `${'m'.repeat(MAX_EMAIL - 11)}@example.org`, createdBy: 'test' });
    expect(tooLongName.ok ? null : tooLongName.code).toBe('invalid_request');
    expect(tooLongEmail.ok ? null : tooLongEmail.code).toBe('invalid_request');
    const longest = await invite(t.deps, { username: 'longest', displayName: 'd'.repeat(MAX_DISPLAY_NAME), email: `${'m'.repeat(MAX_EMAIL - 12)}@example.org`, createdBy: 'test' });
    expect(longest.ok).toBe(true);
    record(task, tally.figures());
  });

  it('stores no string past its bound', async ({ task }) => {
    await expectStringsWithinBounds(t.database.url, task, async (db) => {
      // Behind the proxy, the address kept is the last X-Forwarded-For entry, bounded.
      const { rows } = await sql<{ ip: string }>`select distinct ip from sessions where ip <> '127.0.0.1'`.execute(db.kysely);
      expect(rows.map((r) => r.ip)).toEqual(['9'.repeat(64)]);
    });
  });
});

