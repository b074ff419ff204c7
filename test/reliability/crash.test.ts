/**
 * Crash safety (issue 5): `kill -9` a server in the middle of sustained enrolments and sign-ins, on
 * SQLite (twice) and on PostgreSQL; restart it with no manual step; every enrolment, authenticator-app
 * binding and sign-in it answered 2xx is there and works, nothing is half-written, and the SQLite file
 * is intact.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, freshDatabase } from '../helpers/db.ts';
import { ORIGIN } from '../helpers/constants.ts';
import { MEMBER_CODES_ENV } from '../codes/support.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';
import { Client } from './support/client.ts';
import { InvitationPool, signInOver, startWorkload, totpSignInOver, type Enrolment, type SignedIn, type TotpBinding } from './support/ceremonies.ts';
import { broken, checkInvariants } from './support/invariants.ts';
import { record, Tally } from './support/report.ts';

/** Kills per backend: SQLite's own crash recovery (WAL replay on open) twice, PostgreSQL's once. */
const ROUNDS = { sqlite: 2, postgres: 1 } as const;
const WORKERS = 8;
/** Load runs at least this long before the kill, and until at least MIN_ENROLMENTS were acknowledged. */
const LOAD_MS = 1_200;
const MIN_ENROLMENTS = 15;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('crash safety', () => {
  // Acknowledged enrolments and sessions all survive; nothing is half-written; no manual restart step.
  it.for(BACKENDS)('kill -9 under load on %s, restart, verify', async (backend, { task }) => {
    const tally = new Tally();
    const database = await freshDatabase(backend);
    // One public origin, as behind a load balancer: the restarted process listens on a new port. The
    // balancer reports many client addresses, as for real users: code checks are limited per address.
    const env = { ...MEMBER_CODES_ENV, KEYBOUND_ORIGIN: ORIGIN, KEYBOUND_TRUST_PROXY: 'true' };
    const someAddress = () => `10.${(Math.random() * 256) | 0}.${(Math.random() * 256) | 0}.${(Math.random() * 256) | 0}`;
    let server: ServerProcess = await startServer({ databaseUrl: database.url, env });
    try {
      const invitations = await InvitationPool.growing(database.url, `crash-${backend}`);
      const enrolments: Enrolment[] = [];
      const totp: TotpBinding[] = [];
      const sessions: (SignedIn & { username: string })[] = [];
      for (let round = 0; round < ROUNDS[backend]; round++) {
        const client = new Client(server.baseUrl, { tally, origin: ORIGIN, forwardedFor: someAddress });
        let stopped = false;
        const load = startWorkload({ clients: [client], invitations, workers: WORKERS, stop: () => stopped, bindTotp: true });
        const started = Date.now();
        // Sustained load first, then the kill at an arbitrary moment among requests in flight.
        while (Date.now() - started < LOAD_MS || load.live.enrolments.length < MIN_ENROLMENTS) {
          if (Date.now() - started > 30_000) throw new Error(`load did not get going:\n${server.output()}`);
          await sleep(25);
        }
        await sleep(Math.random() * 100);
        const exited = new Promise((resolve) => server.child.once('exit', resolve));
        server.child.kill('SIGKILL');
        tally.faults++;
        stopped = true;
        const workload = await load.done;
        await exited;
        enrolments.push(...workload.enrolments);
        totp.push(...workload.totp);
        sessions.push(...workload.sessions);
        // Before the kill every request succeeded; after it, requests simply got no answer.
        const refused = workload.answers.filter((a) => a.status !== 0 && (a.status < 200 || a.status >= 300));
        expect(refused.map((a) => `${a.status} ${a.text}`)).toEqual([]);
        await server.stop({ keepDatabase: true });
        // Restart on the same database with no manual step (SQLite replays its WAL on open).
        server = await startServer({ databaseUrl: database.url, env });
      }
      tally.acknowledged = enrolments.length + 2 * totp.length + sessions.length;
      expect(enrolments.length).toBeGreaterThanOrEqual(ROUNDS[backend] * MIN_ENROLMENTS);

      // Every acknowledged enrolment signs in on the restarted server, and every acknowledged
      // session (from enrolments and from sign-ins) is still valid.
      const client = new Client(server.baseUrl, { tally, origin: ORIGIN, forwardedFor: someAddress });
      const lost: string[] = [];
      for (const enrolment of enrolments) {
        const step = await signInOver(client, client, enrolment.authenticator);
        if (!step.ok) lost.push(`enrolment of ${enrolment.username}: ${step.answer.status} ${step.answer.text}`);
      }
      // Every acknowledged authenticator app signs in with its next code (its sealed seed survived).
      for (const binding of totp) {
        const step = await totpSignInOver(client, client, binding);
        if (!step.ok) lost.push(`authenticator app of ${binding.username}: ${step.answer.status} ${step.answer.text}`);
      }
      for (const session of [...enrolments.map((e) => ({ cookie: e.cookie, username: e.username, sessionId: e.sessionId })), ...sessions]) {
        const answer = await client.get('/api/v1/session', { cookie: session.cookie });
        if (answer.status !== 200 || answer.json?.session?.id !== session.sessionId) lost.push(`session of ${session.username}: ${answer.status} ${answer.text}`);
      }
      tally.lost = lost.length;
      expect(lost).toEqual([]);

      const check = await checkInvariants(database.url);
      expect(broken(check)).toEqual({});
      expect(check.auditChainBrokenAt).toBeNull();
      expect(check.counts.passkeys).toBeGreaterThanOrEqual(enrolments.length);
      if (backend === 'sqlite') {
        expect(check.integrity).toBe('ok');
        expect(check.foreignKeyProblems).toBe(0);
      }
      tally.notes.push(`${enrolments.length} enrolments, ${totp.length} authenticator apps and ${sessions.length} sign-ins acknowledged before the kills; ${check.counts.passkeys} passkeys and ${check.counts.sessions} sessions stored`);
      record(task, tally.figures());
    } finally {
      await server.stop({ keepDatabase: true });
      await database.drop();
    }
  });
});
