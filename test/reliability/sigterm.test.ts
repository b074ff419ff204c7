/**
 * Graceful shutdown (issue 5): on SIGTERM the server stops accepting connections, closes idle ones,
 * finishes the requests in flight, gives up on clients that outstay KEYBOUND_SHUTDOWN_GRACE, closes
 * the database and exits 0.
 */
import { existsSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { BACKENDS, freshDatabase, POSTGRES_URL } from '../helpers/db.ts';
import { startServer } from '../helpers/server.ts';
import { checkInvariants } from './support/invariants.ts';
import { RawConnection, refused } from './support/raw.ts';
import { record, Tally } from './support/report.ts';
import { waitFor } from './support/client.ts';

const GRACE_S = 2;

describe('SIGTERM', () => {
  it.for(BACKENDS)('on %s: stops accepting, finishes requests in flight, closes the database, exits 0', async (backend, { task }) => {
    const tally = new Tally();
    const database = await freshDatabase(backend);
    const appName = `kb_rel_term_${randomBytes(4).toString('hex')}`;
    const url = backend === 'postgres' ? `${database.url}&application_name=${appName}` : database.url;
    const server = await startServer({ databaseUrl: url, env: { KEYBOUND_SHUTDOWN_GRACE: String(GRACE_S) } });
    try {
      const exit = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
        server.child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
      );
      // An idle keep-alive connection that already had its answer.
      const idle = await RawConnection.open(server.port);
      idle.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
      expect(await idle.until((r) => r.includes('"status":"ok"'), 2_000)).toBe(true);
      // A request in flight: headers sent, body half sent.
      const body = JSON.stringify({});
      const inFlight = await RawConnection.open(server.port);
      inFlight.write(`POST /api/v1/passkeys/authentication/options HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 1)}`);
      // A client that never finishes its request: the grace period bounds how long it can hold shutdown.
      const stuck = await RawConnection.open(server.port);
      stuck.write('POST /api/v1/passkeys/authentication/options HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
      tally.requests += 3;
      await new Promise((resolve) => setTimeout(resolve, 200));

      const signalled = performance.now();
      server.child.kill('SIGTERM');
      tally.faults++;
      // New connections are refused; the idle connection is closed, not held for its keep-alive time.
      await waitFor(() => refused(server.port), { timeoutMs: 10_000, intervalMs: 25, what: 'new connections to be refused' });
      expect(await idle.untilClosed(10_000)).toBe(true);
      // The request in flight completes normally, and its connection is told to close.
      inFlight.write(body.slice(1));
      expect(await inFlight.until((r) => r.includes('"challenge"'), 10_000)).toBe(true);
      expect(inFlight.status).toBe(200);
      expect(inFlight.received.toLowerCase()).toContain('connection: close');
      tally.acknowledged++;

      const exited = await exit;
      expect(exited).toMatchObject({ code: 0, signal: null });
      // The stuck client held shutdown for the grace period at most (plus a margin for a busy machine).
      expect(exited.at - signalled).toBeLessThan((GRACE_S + 5) * 1000);
      expect(await stuck.untilClosed(1_000)).toBe(true);
      expect(server.output()).not.toMatch(/"level":50|shutdown failed/);

      // The database was closed: SQLite checkpointed and removed its WAL; PostgreSQL has no
      // connection of this server left.
      if (backend === 'sqlite') {
        const wal = `${database.url.slice('sqlite:'.length)}-wal`;
        expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
        expect((await checkInvariants(database.url)).integrity).toBe('ok');
      } else {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        const { rows } = await client.query('select count(*) as n from pg_stat_activity where application_name = $1', [appName]);
        await client.end();
        expect(Number(rows[0].n)).toBe(0);
      }
      tally.notes.push(`exit 0 ${(exited.at - signalled).toFixed(0)} ms after SIGTERM (grace ${GRACE_S} s, one client never finished its request)`);
      record(task, tally.figures());
    } finally {
      await server.stop({ keepDatabase: true });
      await database.drop();
    }
  });
});
