/**
 * Database faults (issue 5). Under sustained enrolments and sign-ins:
 *  - the server's PostgreSQL connections are cut (`pg_terminate_backend`, on the shared PostgreSQL,
 *    aimed only at this test's server by its `application_name`);
 *  - PostgreSQL is stopped and started again, once cleanly and once as a crash. That needs a
 *    PostgreSQL of the test's own (support/privatePostgres.ts): the shared one serves other suites.
 *    A real server rather than a TCP proxy that imitates one, because what matters is what a real
 *    stop looks like to the server: the "terminating connection" notices, refused connections, "the
 *    database system is starting up" while it recovers, and whether a commit PostgreSQL acknowledged
 *    before a crash is still there after WAL recovery.
 * Every request is bounded (5 s). Requests during an outage get 503 with Retry-After and the stable
 * code `service_unavailable`, never a 500 or a hang; the server recovers by itself; every write it
 * acknowledged is kept; nothing is half-written.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ORIGIN } from '../helpers/constants.ts';
import { freshDatabase, POSTGRES_URL } from '../helpers/db.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';
import { InvitationPool, signInOver, startWorkload, enrolOver, type Workload } from './support/ceremonies.ts';
import { Client, waitFor, type Answer } from './support/client.ts';
import { broken, checkInvariants } from './support/invariants.ts';
import { startPrivatePostgres } from './support/privatePostgres.ts';
import { record, Tally } from './support/report.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sorts answers: successes, proper 503s, and everything that must not happen. */
function sortAnswers(answers: readonly Answer[]) {
  const unavailable = answers.filter((a) => a.status === 503);
  const wrong = answers.filter((a) => !(a.status >= 200 && a.status < 300) && a.status !== 503);
  const badUnavailable = unavailable.filter(
    (a) =>
      a.json?.error !== 'service_unavailable' ||
      !(Number(a.headers.get('retry-after')) > 0) ||
      a.headers.get('x-content-type-options') !== 'nosniff' ||
      !a.headers.get('cache-control')?.includes('no-store'),
  );
  const slowest503 = Math.max(0, ...unavailable.map((a) => a.ms));
  return { ok: answers.length - unavailable.length - wrong.length, unavailable: unavailable.length, slowest503, wrong, badUnavailable };
}

const describeAnswer = (a: Answer) => `${a.status || a.failure} after ${a.ms.toFixed(0)} ms: ${a.text.slice(0, 200)}`;

/** Checks that every acknowledged enrolment signs in and every acknowledged session is valid; returns what was lost. */
async function verifyAcknowledged(client: Client, workload: Workload): Promise<string[]> {
  const lost: string[] = [];
  for (const enrolment of workload.enrolments) {
    const step = await signInOver(client, client, enrolment.authenticator);
    if (!step.ok) lost.push(`enrolment of ${enrolment.username}: ${describeAnswer(step.answer)}`);
  }
  for (const session of [...workload.enrolments, ...workload.sessions]) {
    const answer = await client.get('/api/v1/session', { cookie: session.cookie });
    if (answer.status !== 200 || answer.json?.session?.id !== session.sessionId) lost.push(`session of ${session.username}: ${describeAnswer(answer)}`);
  }
  return lost;
}

/** The server works end to end again: a new enrolment and sign-in succeed. */
async function worksAgain(client: Client, invitations: InvitationPool): Promise<void> {
  const invitation = await invitations.take();
  if (!invitation) throw new Error('no invitation left for the check after recovery');
  const enrolled = await enrolOver(client, client, invitation);
  if (!enrolled.ok) throw new Error(`enrolment after recovery: ${describeAnswer(enrolled.answer)}`);
  const signedIn = await signInOver(client, client, enrolled.value.authenticator);
  if (!signedIn.ok) throw new Error(`sign-in after recovery: ${describeAnswer(signedIn.answer)}`);
}

describe('database faults', () => {
  it('PostgreSQL connections cut mid-load (pg_terminate_backend)', async ({ task }) => {
    const tally = new Tally();
    const database = await freshDatabase('postgres');
    const appName = `kb_rel_cut_${randomBytes(4).toString('hex')}`;
    const server = await startServer({ databaseUrl: `${database.url}&application_name=${appName}`, env: { KEYBOUND_ORIGIN: ORIGIN } });
    const admin = new pg.Client({ connectionString: POSTGRES_URL, application_name: `${appName}_admin` });
    await admin.connect();
    try {
      const invitations = await InvitationPool.growing(database.url, 'cut');
      const client = new Client(server.baseUrl, { tally, origin: ORIGIN });
      let stopped = false;
      const load = startWorkload({ clients: [client], invitations, workers: 8, stop: () => stopped });
      const probes: Answer[] = [];
      for (let round = 0; round < 6; round++) {
        await sleep(400 + Math.random() * 300);
        // Only this server's connections: other suites share this PostgreSQL.
        const { rows } = await admin.query('select pg_terminate_backend(pid) as cut from pg_stat_activity where application_name = $1', [appName]);
        tally.faults += rows.filter((r) => r.cut).length;
        probes.push(await client.get('/readyz'));
      }
      await sleep(500);
      stopped = true;
      const workload = await load.done;
      const sorted = sortAnswers([...workload.answers, ...probes]);
      expect(sorted.wrong.map(describeAnswer)).toEqual([]);
      expect(sorted.badUnavailable.map(describeAnswer)).toEqual([]);
      expect(tally.faults).toBeGreaterThan(0);
      tally.notes.push(`${sorted.ok} answers 2xx, ${sorted.unavailable} answers 503 (slowest ${sorted.slowest503.toFixed(0)} ms)`);

      // Recovered by itself: ready, and new enrolments and sign-ins work.
      expect((await client.get('/readyz')).status).toBe(200);
      await worksAgain(client, invitations);
      tally.acknowledged = workload.enrolments.length + workload.sessions.length;
      const lost = await verifyAcknowledged(client, workload);
      tally.lost = lost.length;
      expect(lost).toEqual([]);
      const check = await checkInvariants(database.url);
      expect(broken(check)).toEqual({});
      expect(check.auditChainBrokenAt).toBeNull();
      record(task, tally.figures());
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- server ---\n${server.output().slice(-6000)}`, { cause: error });
    } finally {
      await admin.end();
      await server.stop({ keepDatabase: true });
      await database.drop();
    }
  });

  it('PostgreSQL stopped and started again (cleanly, by a crash) and frozen', async ({ task }) => {
    const tally = new Tally();
    const postgres = await startPrivatePostgres();
    let server: ServerProcess | undefined;
    try {
      const databaseUrl = `${postgres.url}?schema=keybound`;
      server = await startServer({ databaseUrl, env: { KEYBOUND_ORIGIN: ORIGIN, KEYBOUND_DATABASE_TIMEOUT: '1' } });
      const invitations = await InvitationPool.growing(databaseUrl, 'outage');
      const client = new Client(server.baseUrl, { tally, origin: ORIGIN });
      let stopped = false;
      const load = startWorkload({ clients: [client], invitations, workers: 6, stop: () => stopped });
      const outageProbes: Answer[] = [];
      const recoveries: number[] = [];
      for (const mode of ['fast', 'immediate', 'freeze'] as const) {
        await sleep(700);
        const before = load.live.enrolments.length + load.live.sessions.length;
        expect(before).toBeGreaterThan(0);
        if (mode === 'freeze') postgres.freeze();
        else await postgres.stop(mode);
        tally.faults++;
        // The outage: the process is alive, not ready, and answers at once with 503 + Retry-After.
        const outageEnds = Date.now() + 1_500;
        while (Date.now() < outageEnds) {
          outageProbes.push(await client.get('/healthz'), await client.get('/readyz'), await client.post('/api/v1/passkeys/authentication/options', {}));
          await sleep(100);
        }
        if (mode === 'freeze') postgres.thaw();
        else await postgres.start();
        // It recovers by itself once the database is back.
        recoveries.push(await waitFor(async () => (await client.get('/readyz')).status === 200, { timeoutMs: 15_000, intervalMs: 100, what: 'the server to be ready again' }));
        await sleep(300);
      }
      await sleep(600);
      stopped = true;
      const workload = await load.done;

      const healthz = outageProbes.filter((_, i) => i % 3 === 0);
      const during = outageProbes.filter((_, i) => i % 3 !== 0);
      expect(healthz.every((a) => a.status === 200)).toBe(true);
      expect(during.map((a) => a.status)).toEqual(during.map(() => 503));
      const sorted = sortAnswers([...workload.answers, ...during]);
      expect(sorted.wrong.map(describeAnswer)).toEqual([]);
      expect(sorted.badUnavailable.map(describeAnswer)).toEqual([]);
      expect(workload.answers.filter((a) => a.status === 503).length).toBeGreaterThan(0);
      tally.notes.push(`${sorted.ok} answers 2xx, ${sorted.unavailable} answers 503 (slowest ${sorted.slowest503.toFixed(0)} ms); ready again ${recoveries.map((ms) => `${ms.toFixed(0)} ms`).join(' and ')} after PostgreSQL was back`);

      await worksAgain(client, invitations);
      tally.acknowledged = workload.enrolments.length + workload.sessions.length;
      const lost = await verifyAcknowledged(client, workload);
      tally.lost = lost.length;
      expect(lost).toEqual([]);
      const check = await checkInvariants(databaseUrl);
      expect(broken(check)).toEqual({});
      expect(check.auditChainBrokenAt).toBeNull();
      record(task, tally.figures());
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- server ---\n${server?.output().slice(-4000)}\n--- postgres ---\n${postgres.log()}`, { cause: error });
    } finally {
      await server?.stop({ keepDatabase: true });
      await postgres.destroy();
    }
  });
});
