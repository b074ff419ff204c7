/**
 * Several instances on one PostgreSQL (issue 5, DESIGN.md "Scale-out"): three `keybound serve`
 * processes on different ports share one database. They start at the same moment on an empty schema
 * (one migrates, the others wait), then every step of every ceremony may land on any of them:
 * nothing one instance needs is kept in another's memory.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/migrate.ts';
import { freshDatabase, POSTGRES_URL, type TestDatabase } from '../helpers/db.ts';
import { freePort, startServer, type ServerProcess } from '../helpers/server.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { enrolOver, inviteMany, signInOver } from './support/ceremonies.ts';
import { Client, waitFor } from './support/client.ts';
import { record, Tally } from './support/report.ts';
import { MEMBER_CODES_ENV, TotpApp } from '../codes/support.ts';

const INSTANCES = 3;
/** KEYBOUND_CODE_FREE_FAILURES: wrong codes an account gets before each further one must wait. */
const CODE_FREE_FAILURES = 4;
const CEREMONY_LIMIT = 20;
/** A long window, so one attack never straddles two (the window is fixed and aligned to the epoch). */
const WINDOW_S = 3600;

describe('several instances on one PostgreSQL', () => {
  let database: TestDatabase;
  let servers: ServerProcess[] = [];
  let startup: { outputs: string[]; waiting: number; migrationRows: { version: number }[] };
  const appName = `kb_rel_multi_${randomBytes(4).toString('hex')}`;
  /** A client per instance, speaking for one client address (the instances trust X-Forwarded-For, as behind a load balancer). */
  const clientsFor = (tally: Tally, address: string) => servers.map((s) => new Client(s.baseUrl, { tally, origin: s.baseUrl, forwardedFor: address }));

  beforeAll(async () => {
    database = await freshDatabase('postgres');
    const url = `${database.url}&application_name=${appName}`;
    const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()));
    const env = {
      // WebAuthn client data names the one origin the ceremony began on; every instance accepts all.
      KEYBOUND_ORIGIN: ports.map((p) => `http://localhost:${p}`).join(','),
      KEYBOUND_LOG_LEVEL: 'info',
      KEYBOUND_RATE_LIMIT_CEREMONY: String(CEREMONY_LIMIT),
      KEYBOUND_RATE_LIMIT_WINDOW: String(WINDOW_S),
      KEYBOUND_TRUST_PROXY: 'true',
      KEYBOUND_CODE_FREE_FAILURES: String(CODE_FREE_FAILURES),
      ...MEMBER_CODES_ENV,
    };
    // Hold the migration lock while the instances start, so all of them reach it together: then
    // release it and see that exactly one applies the migrations while the others wait.
    const holder = new pg.Client({ connectionString: POSTGRES_URL, application_name: `${appName}_holder` });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock(hashtext($1))', [`keybound.migrate.${database.schema}`]);
      const starting = ports.map((port) => startServer({ databaseUrl: url, port, env, readyTimeoutMs: 45_000 }));
      const waiting = async () =>
        Number(
          (
            await holder.query(
              `select count(*) as n from pg_locks l join pg_stat_activity a on a.pid = l.pid where l.locktype = 'advisory' and not l.granted and a.application_name = $1`,
              [appName],
            )
          ).rows[0].n,
        );
      let waiters = 0;
      await waitFor(async () => (waiters = await waiting()) === INSTANCES, { timeoutMs: 40_000, intervalMs: 100, what: 'every instance to wait for the migration lock' });
      await holder.query('select pg_advisory_unlock(hashtext($1))', [`keybound.migrate.${database.schema}`]);
      const settled = await Promise.allSettled(starting);
      servers = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      const rows = (await holder.query(`select version from ${database.schema}.schema_migrations order by version`)).rows as { version: number }[];
      startup = { outputs: servers.map((s) => s.output()), waiting: waiters, migrationRows: rows };
    } finally {
      await holder.end();
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop({ keepDatabase: true })));
    await database?.drop();
  });

  it('start together on an empty schema: one applies the migrations, the others wait, one first-admin link', ({ task }) => {
    expect(startup.waiting).toBe(INSTANCES);
    // Every registered migration (numbers are handed out per change, so a branch may skip one).
    expect(startup.migrationRows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
    const migrated = startup.outputs.filter((o) => o.includes('"msg":"database migrated"'));
    expect(migrated).toHaveLength(1);
    expect(startup.outputs.filter((o) => o.includes('Keybound has no accounts yet'))).toHaveLength(1);
    record(task, { faults: 0, requests: 0, acknowledged: 0, lost: 0 });
  });

  it('ceremonies, invitations and sessions cross instances', async ({ task }) => {
    const tally = new Tally();
    const [a, b, c] = clientsFor(tally, '198.51.100.1') as [Client, Client, Client];
    const [serverA] = servers as [ServerProcess];
    // An invitation made through A (its CLI, on A's settings) is opened and used through B and C.
    const invited = await serverA.cliJson<{ token: string; account: { id: string } }>(['invite', 'alice', '--json']);
    const page = await b.get(`/enrol/${invited.token}`);
    expect(page.status).toBe(200);
    const authenticator = new SoftAuthenticator({ origin: servers[1]!.baseUrl });
    const enrolled = await enrolOver(b, c, { username: 'alice', accountId: invited.account.id, token: invited.token }, authenticator);
    if (!enrolled.ok) throw new Error(`${enrolled.answer.status} ${enrolled.answer.text}`);
    tally.acknowledged++;
    // The session made on C is valid on every instance.
    let lost = 0;
    for (const client of [a, b, c]) {
      const session = await client.get('/api/v1/session', { cookie: enrolled.value.cookie });
      expect(session.status).toBe(200);
      if (session.json.session.id !== enrolled.value.sessionId) lost++;
    }
    // Sign-in options on C, verify on A; username-first options on B, verify on C.
    authenticator.origin = servers[2]!.baseUrl;
    const usernameless = await signInOver(c, a, authenticator);
    if (!usernameless.ok) throw new Error(`${usernameless.answer.status} ${usernameless.answer.text}`);
    tally.acknowledged++;
    authenticator.origin = servers[1]!.baseUrl;
    const options = await b.post('/api/v1/passkeys/authentication/options', { username: 'alice' });
    expect(options.json.allowCredentials).toHaveLength(1);
    const verify = await c.post('/api/v1/passkeys/authentication/verify', { response: authenticator.get(options.json) });
    expect(verify.status).toBe(200);
    tally.acknowledged++;
    // The one-time challenge was consumed on C: replaying the same answer on A or B fails.
    for (const client of [a, b]) {
      const replay = await client.post('/api/v1/passkeys/authentication/verify', { response: authenticator.get(options.json) });
      expect(replay.json.error).toBe('passkey_challenge_unknown');
    }
    for (const [cookie, id] of [
      [usernameless.value.cookie, usernameless.value.sessionId],
      [verify.sessionCookie!, verify.json.session.id],
    ] as const) {
      for (const client of [a, b, c]) {
        const session = await client.get('/api/v1/session', { cookie });
        if (session.status !== 200 || session.json.session.id !== id) lost++;
      }
    }
    tally.lost = lost;
    expect(lost).toBe(0);
    record(task, tally.figures());
  });

  it('a session or passkey revoked through A is refused by B on the very next request', async ({ task }) => {
    const tally = new Tally();
    const [a, b, c] = clientsFor(tally, '198.51.100.2') as [Client, Client, Client];
    const [invitation] = await inviteMany(database.url, 'revoker', 1);
    const authenticator = new SoftAuthenticator({ origin: servers[0]!.baseUrl });
    const enrolled = await enrolOver(a, a, invitation!, authenticator);
    if (!enrolled.ok) throw new Error(`${enrolled.answer.status} ${enrolled.answer.text}`);
    const main = enrolled.value.cookie;

    // Sign out through A; B refuses the session at once.
    const signedIn = await signInOver(a, c, authenticator);
    if (!signedIn.ok) throw new Error(signedIn.answer.text);
    expect((await b.get('/api/v1/session', { cookie: signedIn.value.cookie })).status).toBe(200);
    expect((await a.request('DELETE', '/api/v1/session', { cookie: signedIn.value.cookie })).status).toBe(204);
    // No waiting and no retry: every request reads the database, so the first one after A answered is refused.
    expect((await b.get('/api/v1/session', { cookie: signedIn.value.cookie })).status).toBe(401);

    // Revoke another session by id through A; B refuses it at once.
    const other = await signInOver(b, b, authenticator);
    if (!other.ok) throw new Error(other.answer.text);
    expect((await a.request('DELETE', `/api/v1/sessions/${other.value.sessionId}`, { cookie: main })).status).toBe(204);
    expect((await b.get('/api/v1/session', { cookie: other.value.cookie })).status).toBe(401);

    // Add a second passkey (through B), remove it through A; B refuses it at once.
    const second = new SoftAuthenticator({ origin: servers[1]!.baseUrl });
    const regOptions = await b.post('/api/v1/passkeys/registration/options', {}, { cookie: main });
    expect(regOptions.status).toBe(200);
    const added = await c.post('/api/v1/passkeys/registration/verify', { response: second.create(regOptions.json), nickname: 'Second' }, { cookie: main });
    expect(added.status).toBe(201);
    const usable = await signInOver(b, b, second);
    expect(usable.ok).toBe(true);
    expect((await a.request('DELETE', `/api/v1/passkeys/${added.json.passkey.id}`, { cookie: main })).status).toBe(204);
    const refused = await signInOver(b, b, second);
    expect(refused.ok).toBe(false);
    expect(refused.ok ? '' : refused.answer.json?.error).toBe('passkey_unknown_credential');
    // Enrolment, three sign-ins, sign-out, revocation, added passkey, removal: each seen by B.
    tally.acknowledged = 8;
    tally.notes.push('B refused the signed-out session, the revoked session and the removed passkey on its first request after A answered');
    record(task, tally.figures());
  });

  it('shares rate limits: guesses spread over every instance get no more tries than against one', async ({ task }) => {
    const tally = new Tally();
    // Keep clear of a window boundary, where a fixed window would rightly start counting anew.
    const intoWindow = Date.now() % (WINDOW_S * 1000);
    if (intoWindow > WINDOW_S * 1000 - 10_000) await new Promise((resolve) => setTimeout(resolve, WINDOW_S * 1000 - intoWindow + 100));
    const guess = (client: Client, i: number) =>
      i % 2 === 0
        ? client.post('/api/v1/passkeys/registration/options', { enrolmentToken: `${randomBytes(12).toString('base64url')}.${randomBytes(32).toString('base64url')}` })
        : client.post('/api/v1/passkeys/authentication/verify', { response: forgedAssertion() });
    const attempts = 3 * CEREMONY_LIMIT;
    const spread = clientsFor(tally, '203.0.113.7');
    const spreadAnswers = await Promise.all(Array.from({ length: attempts }, (_, i) => guess(spread[i % INSTANCES]!, i)));
    const single = clientsFor(tally, '203.0.113.8')[0]!;
    const singleAnswers = await Promise.all(Array.from({ length: attempts }, (_, i) => guess(single, i)));
    // Writing a fresh address of one's own at the front of X-Forwarded-For buys nothing either: the
    // address is the one the load balancer appends.
    const spoofing = clientsFor(tally, '203.0.113.9');
    const spoofedAnswers = await Promise.all(
      Array.from({ length: attempts }, (_, i) =>
        spoofing[i % INSTANCES]!.post('/api/v1/passkeys/authentication/options', {}, { headers: { 'x-forwarded-for': `198.18.${i % 256}.${(i * 7) % 256}, 203.0.113.9` } }),
      ),
    );
    const tries = (answers: typeof spreadAnswers) => answers.filter((r) => r.status !== 429).length;
    expect(tries(spreadAnswers)).toBe(CEREMONY_LIMIT);
    expect(tries(singleAnswers)).toBe(CEREMONY_LIMIT);
    expect(tries(spoofedAnswers)).toBe(CEREMONY_LIMIT);
    for (const refused of [...spreadAnswers, ...singleAnswers].filter((r) => r.status === 429)) {
      expect(refused.json.error).toBe('rate_limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // Every instance took part in refusing.
    const refusedBy = new Set(spreadAnswers.map((r, i) => (r.status === 429 ? i % INSTANCES : -1)).filter((i) => i >= 0));
    expect(refusedBy.size).toBe(INSTANCES);
    record(task, tally.figures());
  });

  it('shares code failure counters: wrong codes spread over every instance get no more tries than against one', async ({ task }) => {
    const tally = new Tally();
    // Two accounts with an authenticator app, bound through the API across instances.
    const bind = async (name: string) => {
      const [a, b, c] = clientsFor(tally, `198.51.100.${name === 'spread' ? 4 : 5}`) as [Client, Client, Client];
      const [invitation] = await inviteMany(database.url, `codes-${name}`, 1);
      const enrolled = await enrolOver(a, a, invitation!, new SoftAuthenticator({ origin: servers[0]!.baseUrl }));
      if (!enrolled.ok) throw new Error(enrolled.answer.text);
      const begun = await b.post('/api/v1/totp', {}, { cookie: enrolled.value.cookie });
      expect(begun.status, begun.text).toBe(201);
      const app = new TotpApp(begun.json.otpauthUri);
      const confirmed = await c.post('/api/v1/totp/confirm', { code: app.code(Date.now()) }, { cookie: enrolled.value.cookie });
      expect(confirmed.status, confirmed.text).toBe(200);
      tally.acknowledged += 2;
      return invitation!.username;
    };
    const spreadUser = await bind('spread');
    const singleUser = await bind('single');
    // Wrong codes, all at once, each from its own address (so only the account's counter is in
    // play): start and verify on different instances, or all on instance A.
    const guesses = 3 * CODE_FREE_FAILURES;
    const guess = async (username: string, i: number, spread: boolean) => {
      const address = `192.0.2.${(spread ? 0 : 128) + i}`;
      const [start, verify] = spread ? [clientsFor(tally, address)[i % INSTANCES]!, clientsFor(tally, address)[(i + 1) % INSTANCES]!] : [clientsFor(tally, address)[0]!, clientsFor(tally, address)[0]!];
      const begun = await start.post('/api/v1/codes/sign-in/start', { username, factor: 'totp' });
      if (begun.status !== 200) return begun;
      return verify.post('/api/v1/codes/sign-in/verify', { attemptId: begun.json.attemptId, code: '000000' });
    };
    const spreadAnswers = await Promise.all(Array.from({ length: guesses }, (_, i) => guess(spreadUser, i, true)));
    const singleAnswers = await Promise.all(Array.from({ length: guesses }, (_, i) => guess(singleUser, i, false)));
    const tries = (answers: typeof spreadAnswers) => answers.filter((a) => a.json?.error === 'code_invalid').length;
    for (const answer of [...spreadAnswers, ...singleAnswers]) expect(['code_invalid', 'code_throttled'], answer.text).toContain(answer.json?.error);
    // The free failures, then the one whose failure starts the first wait (test/codes/limits.test.ts).
    expect(tries(singleAnswers)).toBe(CODE_FREE_FAILURES + 1);
    expect(tries(spreadAnswers)).toBe(tries(singleAnswers));
    tally.notes.push(`${guesses} wrong codes each way: ${tries(spreadAnswers)} tried when spread over ${INSTANCES} instances, ${tries(singleAnswers)} on one`);
    record(task, tally.figures());
  });

  it('shares what a failed sign-in teaches: a replayed counter on one instance disables the passkey on all', async ({ task }) => {
    const tally = new Tally();
    const [a, b, c] = clientsFor(tally, '198.51.100.3') as [Client, Client, Client];
    const [invitation] = await inviteMany(database.url, 'cloned', 1);
    const authenticator = new SoftAuthenticator({ origin: servers[0]!.baseUrl });
    const enrolled = await enrolOver(a, a, invitation!, authenticator);
    expect(enrolled.ok).toBe(true);
    expect((await signInOver(a, b, authenticator)).ok).toBe(true);
    // A clone answers with a counter no higher than what B already accepted.
    const options = await c.post('/api/v1/passkeys/authentication/options', {});
    const cloned = await c.post('/api/v1/passkeys/authentication/verify', { response: authenticator.get(options.json, { signCount: 1 }) });
    expect(cloned.json.error).toBe('passkey_sign_count_regressed');
    const afterwards = await signInOver(a, a, authenticator);
    expect(afterwards.ok).toBe(false);
    if (!afterwards.ok) expect(afterwards.answer.json.error).toBe('passkey_flagged');
    tally.acknowledged = 2;
    record(task, tally.figures());
  });
});

/** A sign-in answer for a credential nobody registered, with a made-up challenge. */
function forgedAssertion() {
  const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: randomBytes(32).toString('base64url'), origin: 'http://localhost' }));
  const id = randomBytes(32).toString('base64url');
  return {
    id,
    rawId: id,
    type: 'public-key',
    response: { clientDataJSON: clientData.toString('base64url'), authenticatorData: randomBytes(37).toString('base64url'), signature: randomBytes(70).toString('base64url') },
    clientExtensionResults: {},
  };
}
