import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite } from '../../src/services/invitations.ts';
import { enrol, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { SoftAuthenticator, type Tamper } from '../helpers/softAuthenticator.ts';

/**
 * The JSON API driven by software authenticators (node:crypto ES256 and Ed25519) through every
 * refusal a relying party owes: each fault is injected alone into an otherwise valid response.
 */
describe.each(['ES256', 'Ed25519'] as const)('passkey API with %s authenticators', (alg) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  async function registrationAttempt(username: string, tamper: Tamper, authenticator = new SoftAuthenticator({ alg })) {
    const invited = await invite(t.deps, { username, createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    const options = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: invited.value.token });
    expect(options.statusCode).toBe(200);
    const response = await t.post('/api/v1/passkeys/registration/verify', { response: authenticator.create(options.json(), tamper) });
    return { response, token: invited.value.token, account: invited.value.account };
  }

  it('enrols, signs in usernameless and username-first, and reports AAL2 phishing-resistant', async () => {
    const { body, authenticator } = await enrol(t, `ok-${alg.toLowerCase()}`, new SoftAuthenticator({ alg }));
    expect(body).toMatchObject({ acr: 'urn:keybound:aal2:phr', aal: 2, passkey: { kind: 'device-bound', nickname: 'Test key' } });
    // Finding 3 (issue 10): a device-bound key whose attestation policy does not trust proves
    // possession only; `hwk` (hardware-secured key, RFC 8176) is not claimed.
    expect([...body.amr].sort()).toEqual(['mfa', 'pop', 'user']);
    const usernameless = await signIn(t, authenticator);
    expect(usernameless.statusCode, usernameless.body).toBe(200);
    expect(usernameless.json().account.username).toBe(`ok-${alg.toLowerCase()}`);
    const options = await t.post('/api/v1/passkeys/authentication/options', { username: `ok-${alg.toLowerCase()}` });
    expect(options.json().allowCredentials).toEqual([expect.objectContaining({ id: authenticator.credential.id ? Buffer.from(authenticator.credential.id).toString('base64url') : '' })]);
    const usernameFirst = await t.post('/api/v1/passkeys/authentication/verify', { response: authenticator.get(options.json()) });
    expect(usernameFirst.statusCode, usernameFirst.body).toBe(200);
    const session = await t.get('/api/v1/session', sessionCookie(usernameFirst));
    expect(session.json()).toMatchObject({ account: { username: `ok-${alg.toLowerCase()}` }, acr: 'urn:keybound:aal2:phr' });
  });

  describe('registration refusals', () => {
    const cases: [string, Tamper, string][] = [
      ['wrong origin', { origin: 'https://evil.example' }, 'passkey_origin_mismatch'],
      ['wrong relying-party id hash', { rpId: 'evil.example' }, 'passkey_rp_id_mismatch'],
      ['user presence missing', { flags: { up: false } }, 'passkey_user_not_present'],
      ['user verification missing', { flags: { uv: false } }, 'passkey_user_not_verified'],
      ['wrong ceremony type', { type: 'webauthn.get' }, 'passkey_ceremony_type_mismatch'],
      ['cross-origin iframe', { crossOrigin: true, topOrigin: 'https://evil.example' }, 'passkey_cross_origin_not_allowed'],
    ];
    it.each(cases)('%s', async (name, tamper, code) => {
      const { response, account } = await registrationAttempt(`reg-${alg}-${name.replace(/\W+/g, '-')}`.toLowerCase(), tamper);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: code, message: expect.any(String) });
      expect(await t.store.passkeys.listByAccount(account.id)).toHaveLength(0);
      expect((await t.store.accounts.findById(account.id))?.status).toBe('invited');
    });

    it('an unknown challenge (never issued)', async () => {
      const authenticator = new SoftAuthenticator({ alg });
      const response = await t.post('/api/v1/passkeys/registration/verify', { response: authenticator.create({ challenge: 'bm90LWlzc3VlZA', user: { id: 'AAAA' } }) });
      expect(response.json()).toMatchObject({ error: 'passkey_challenge_unknown' });
    });

    it('a syncable passkey for a role that requires device-bound ones, with a message that says what to use', async () => {
      const invited = await invite(t.deps, { username: `admin-${alg}`.toLowerCase(), role: 'admin', createdBy: 'test' });
      if (!invited.ok) throw new Error(invited.code);
      const options = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: invited.value.token });
      const synced = new SoftAuthenticator({ alg, flags: { be: true, bs: true } });
      const refused = await t.post('/api/v1/passkeys/registration/verify', { response: synced.create(options.json()) });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error).toBe('passkey_synced_not_allowed');
      expect(refused.json().message).toMatch(/device-bound/);
      // The link still works with a device-bound authenticator.
      const again = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: invited.value.token });
      const ok = await t.post('/api/v1/passkeys/registration/verify', { response: new SoftAuthenticator({ alg }).create(again.json()) });
      expect(ok.statusCode, ok.body).toBe(201);
    });
  });

  describe('authentication refusals', () => {
    let authenticator: SoftAuthenticator;
    let accountId: string;
    beforeAll(async () => {
      const enrolled = await enrol(t, `auth-${alg}`.toLowerCase(), new SoftAuthenticator({ alg }));
      authenticator = enrolled.authenticator;
      accountId = enrolled.account.id;
    });

    const cases: [string, Tamper, string][] = [
      ['wrong origin', { origin: 'https://evil.example' }, 'passkey_origin_mismatch'],
      ['wrong relying-party id hash', { rpId: 'evil.example' }, 'passkey_rp_id_mismatch'],
      ['user presence missing', { flags: { up: false } }, 'passkey_user_not_present'],
      ['user verification missing', { flags: { uv: false } }, 'passkey_user_not_verified'],
      ['bad signature', { badSignature: true }, 'passkey_signature_invalid'],
      ['wrong ceremony type', { type: 'webauthn.create' }, 'passkey_ceremony_type_mismatch'],
      ['user handle of another account', { userHandle: Buffer.alloc(32, 1).toString('base64url') }, 'passkey_user_handle_mismatch'],
      ['unknown credential', { credentialId: new Uint8Array(32).fill(9) }, 'passkey_unknown_credential'],
    ];
    it.each(cases)('%s', async (_name, tamper, code) => {
      const before = await t.store.passkeys.listByAccount(accountId);
      const response = await signIn(t, authenticator, tamper);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: code });
      expect(response.cookies.find((c) => c.name.endsWith('keybound_session'))).toBeUndefined();
      // A refused assertion leaves the stored counter alone (the soft authenticator already moved its own).
      expect((await t.store.passkeys.listByAccount(accountId))[0]!.signCount).toBe(before[0]!.signCount);
      authenticator.credential.signCount = before[0]!.signCount;
    });

    it('a replayed challenge', async () => {
      const options = await t.post('/api/v1/passkeys/authentication/options', {});
      const first = await t.post('/api/v1/passkeys/authentication/verify', { response: authenticator.get(options.json()) });
      expect(first.statusCode).toBe(200);
      const replay = await t.post('/api/v1/passkeys/authentication/verify', { response: authenticator.get(options.json()) });
      expect(replay.json()).toMatchObject({ error: 'passkey_challenge_unknown' });
    });

    it('an expired challenge (5 minutes)', async () => {
      const options = await t.post('/api/v1/passkeys/authentication/options', {});
      t.clock.advance(5 * 60 * 1000 + 1);
      const response = await t.post('/api/v1/passkeys/authentication/verify', { response: authenticator.get(options.json()) });
      expect(response.json()).toMatchObject({ error: 'passkey_challenge_expired' });
    });

    it('a sign count that does not increase flags the passkey', async () => {
      const stored = (await t.store.passkeys.listByAccount(accountId))[0]!;
      expect(stored.signCount).toBeGreaterThan(0);
      const response = await signIn(t, authenticator, { signCount: stored.signCount });
      expect(response.json()).toMatchObject({ error: 'passkey_sign_count_regressed' });
      const flagged = (await t.store.passkeys.listByAccount(accountId))[0]!;
      expect(flagged).toMatchObject({ status: 'flagged', flaggedReason: 'sign_count_regressed' });
      // Once flagged, even a good assertion is refused.
      const later = await signIn(t, authenticator);
      expect(later.json()).toMatchObject({ error: 'passkey_flagged' });
      const audit = await t.store.audit.list({ accountId, limit: 50 });
      expect(audit.some((e) => e.type === 'passkey.flagged' && e.reason === 'sign_count_regressed')).toBe(true);
    });

    it('a backup-eligibility flag that changes', async () => {
      const { authenticator: other } = await enrol(t, `be-${alg}`.toLowerCase(), new SoftAuthenticator({ alg }));
      const response = await signIn(t, other, { flags: { be: true } });
      expect(response.json()).toMatchObject({ error: 'passkey_backup_eligibility_changed' });
    });
  });

  it('answers malformed bodies with 4xx and a stable code, never 5xx', async () => {
    const bad: [string, unknown][] = [
      ['not an object', '"hello"'],
      ['missing response', {}],
      ['wrong types', { response: { id: 1, rawId: 2, type: 'public-key', response: {} } }],
      ['bad base64url', { response: { id: 'a+b/', rawId: 'a+b/', type: 'public-key', response: { clientDataJSON: '!!', authenticatorData: 'x', signature: 'y' } } }],
      ['truncated authenticator data', { response: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: Buffer.from('{"type":"webauthn.get","challenge":"x","origin":"http://localhost:8080"}').toString('base64url'), authenticatorData: 'AAAA', signature: 'AAAA' } } }],
      ['clientDataJSON not JSON', { response: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'AAAA', authenticatorData: 'AAAA', signature: 'AAAA' } } }],
      ['extra property', { response: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'AAAA', authenticatorData: 'AAAA', signature: 'AAAA' } }, admin: true }],
    ];
    for (const [name, body] of bad) {
      for (const url of ['/api/v1/passkeys/authentication/verify', '/api/v1/passkeys/registration/verify']) {
        const response = await t.app.inject({ method: 'POST', url, payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', origin: ORIGIN } });
        expect(response.statusCode, `${name} → ${url}: ${response.body}`).toBeGreaterThanOrEqual(400);
        expect(response.statusCode, name).toBeLessThan(500);
        expect(typeof response.json().error, name).toBe('string');
      }
    }
    const truncatedCbor = await t.post('/api/v1/passkeys/registration/verify', {
      response: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: Buffer.from('{"type":"webauthn.create","challenge":"x","origin":"http://localhost:8080"}').toString('base64url'), attestationObject: 'o2NmbXQ' } },
    });
    expect(truncatedCbor.statusCode).toBe(400);
    const oversized = await t.app.inject({ method: 'POST', url: '/api/v1/passkeys/authentication/options', payload: JSON.stringify({ username: 'x'.repeat(70_000) }), headers: { 'content-type': 'application/json' } });
    expect(oversized.statusCode).toBe(413);
    expect(oversized.json().error).toBe('request_too_large');
  });
});

describe('role policy at sign-in', () => {
  it('refuses a syncable passkey once the role no longer allows it, in the one place sessions are issued', async () => {
    const t = await startTestApp();
    try {
      const { authenticator, account } = await enrol(t, 'mover', new SoftAuthenticator({ flags: { be: true, bs: true } }));
      expect((await signIn(t, authenticator)).statusCode).toBe(200);
      await t.store.accounts.setRole(account.id, 'admin', t.clock.now);
      const refused = await signIn(t, authenticator);
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error).toBe('passkey_synced_not_allowed');
      expect(refused.cookies.find((c) => c.name.endsWith('keybound_session'))).toBeUndefined();
      const events = await t.store.audit.list({ accountId: account.id, limit: 5 });
      expect(events[0]).toMatchObject({ type: 'sign_in', outcome: 'failure', reason: 'passkey_synced_not_allowed' });
    } finally {
      await t.close();
    }
  });
});

describe('finding 12: the ceremony rate limit keys an IPv6 client on its /64', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { KEYBOUND_RATE_LIMIT_CEREMONY: '2' } });
  });
  afterAll(async () => t?.close());

  const options = (remoteAddress: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/passkeys/authentication/options', payload: {}, remoteAddress, headers: { origin: ORIGIN, 'content-type': 'application/json' } });

  it('two addresses in one /64 share a limit; the next /64 has its own', async () => {
    expect((await options('2001:db8:7:1::1')).statusCode).toBe(200);
    expect((await options('2001:db8:7:1:aaaa:bbbb:cccc:dddd')).statusCode).toBe(200);
    const refused = await options('2001:db8:7:1::2');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error).toBe('rate_limited');
    expect((await options('2001:db8:7:2::1')).statusCode).toBe(200);
  });

  it('an IPv4 client counts alike whether the socket shows it plain or IPv4-mapped', async () => {
    expect((await options('192.0.2.44')).statusCode).toBe(200);
    expect((await options('::ffff:192.0.2.44')).statusCode).toBe(200);
    expect((await options('192.0.2.44')).statusCode).toBe(429);
  });
});

describe('finding 11: username-first options do not tell which usernames exist', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  /** What real browsers report: id lengths and transports (sorted, as getTransports() returns them). */
  const REAL: { bytes: number; transports: string[] }[] = [
    { bytes: 16, transports: ['hybrid', 'internal'] },
    { bytes: 20, transports: ['hybrid', 'internal'] },
    { bytes: 32, transports: ['internal'] },
    { bytes: 32, transports: ['hybrid', 'internal'] },
    { bytes: 64, transports: ['nfc', 'usb'] },
    { bytes: 48, transports: ['usb'] },
  ];

  /** Registers a passkey of a given shape, by enrolment token or from a session cookie. */
  async function register(shape: (typeof REAL)[number], by: { token?: string; cookie?: string }) {
    const authenticator = new SoftAuthenticator();
    const options = await t.post('/api/v1/passkeys/registration/options', by.token ? { enrolmentToken: by.token } : {}, by.cookie);
    expect(options.statusCode, options.body).toBe(200);
    const response = authenticator.create(options.json(), { credentialId: new Uint8Array(randomBytes(shape.bytes)) });
    response.response.transports = shape.transports;
    const verify = await t.post('/api/v1/passkeys/registration/verify', { response, nickname: 'key' }, by.cookie);
    expect(verify.statusCode, verify.body).toBe(201);
    return verify;
  }

  const optionsFor = async (username: string) => (await t.post('/api/v1/passkeys/authentication/options', { username })).json();
  const shapeOf = (c: { id: string; type: string; transports: string[] }) => `${Buffer.from(c.id, 'base64url').length}:${c.transports.join(',')}`;

  it('answers a stand-in that stays the same, has the same fields, and draws only shapes real accounts show', async () => {
    const realShapes = new Set<string>();
    const realCounts = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const username = `real-${i}`;
      const invited = await invite(t.deps, { username, createdBy: 'test' });
      if (!invited.ok) throw new Error(invited.code);
      const count = (i % 3) + 1;
      const cookie = sessionCookie(await register(REAL[i % REAL.length]!, { token: invited.value.token }));
      for (let k = 1; k < count; k++) await register(REAL[(i + k) % REAL.length]!, { cookie });
      const real = await optionsFor(username);
      expect(real.allowCredentials).toHaveLength(count);
      realCounts.add(real.allowCredentials.length);
      for (const c of real.allowCredentials) realShapes.add(shapeOf(c));
    }

    const real = await optionsFor('real-0');
    const standIn = await optionsFor('nobody-at-all');
    // The same unknown username twice: the same list, as a real account's list is.
    expect((await optionsFor('nobody-at-all')).allowCredentials).toEqual(standIn.allowCredentials);
    expect(await optionsFor('Nobody-At-All ')).toMatchObject({ allowCredentials: standIn.allowCredentials });
    // The same fields, in the same order.
    expect(Object.keys(standIn)).toEqual(Object.keys(real));
    expect(Object.keys(standIn.allowCredentials[0])).toEqual(Object.keys(real.allowCredentials[0]));

    // Across many unknown usernames: only counts and shapes real registrations produce, and as
    // varied as they are (a stand-in that is always one 32-byte id is itself a tell).
    const standInShapes = new Set<string>();
    const standInCounts = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const { allowCredentials } = await optionsFor(`ghost-${i}`);
      standInCounts.add(allowCredentials.length);
      for (const c of allowCredentials) {
        expect(c.type).toBe('public-key');
        standInShapes.add(shapeOf(c));
      }
    }
    expect([...standInCounts].filter((n) => !realCounts.has(n))).toEqual([]);
    expect([...standInShapes].filter((s) => !realShapes.has(s))).toEqual([]);
    expect(standInCounts.size).toBeGreaterThan(1);
    expect(new Set([...standInShapes].map((s) => s.split(':')[0])).size).toBeGreaterThan(1);

    // An invited account without a passkey yet answers like a username nobody has.
    const invited = await invite(t.deps, { username: 'not-yet', createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    expect([...(await optionsFor('not-yet')).allowCredentials.map(shapeOf)].every((s: string) => realShapes.has(s))).toBe(true);
  });
});
