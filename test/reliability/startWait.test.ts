/**
 * A server that starts before its database (issue 5: "restart needs no manual step"): `serve` waits
 * for an unreachable PostgreSQL with growing pauses, then starts by itself when it appears; past
 * KEYBOUND_DATABASE_START_WAIT it exits 1 with one line saying what it could not reach (no stack
 * trace, no password); a SIGTERM during the wait exits 0. The database "appears" as a TCP relay on a
 * port of its own, started in front of the real PostgreSQL while the server is already waiting.
 */
import { spawn } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { TEST_DATA_KEYS } from '../helpers/constants.ts';
import { freshDatabase } from '../helpers/db.ts';
import { freePort } from '../helpers/server.ts';
import { record, Tally } from './support/report.ts';

const BIN = fileURLToPath(new URL('../../bin/keybound.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Forwards every connection on `port` to `target`, as PostgreSQL coming up there would. */
function relay(port: number, target: URL): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise<void>((done) => server.close(() => done()));
        },
      }),
    );
  });
}

/** `keybound serve` on a database URL, outside the helper, to watch how it ends. */
function serve(databaseUrl: string, env: Record<string, string>) {
  let output = '';
  const child = spawn(process.execPath, [BIN, 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', KEYBOUND_PORT: '0', KEYBOUND_DATABASE_URL: databaseUrl, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS, KEYBOUND_LOG_LEVEL: 'warn', KEYBOUND_METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const waits = (output: string) => output.split('\n').filter((l) => l.includes('database not reachable yet')).map((l) => JSON.parse(l) as { reason: string; attempt: number; retryInMs: number; database: string });

describe('starting before the database', () => {
  it('waits for PostgreSQL, then starts by itself once it answers', async ({ task }) => {
    const tally = new Tally();
    const database = await freshDatabase('postgres');
    const [relayPort, httpPort] = [await freePort(), await freePort()];
    const real = new URL(database.url);
    const viaRelay = new URL(database.url);
    viaRelay.port = String(relayPort);
    viaRelay.password = 'not-a-real-secret';
    const run = serve(viaRelay.toString(), { KEYBOUND_PORT: String(httpPort), KEYBOUND_ORIGIN: `http://localhost:${httpPort}` });
    let up: { close(): Promise<void> } | undefined;
    try {
      // The database appears once the server has said twice that it is waiting for it.
      await until(() => waits(run.output()).length >= 2, 30_000);
      up = await relay(relayPort, real);
      tally.faults++;
      const ready = await until(async () => (await fetch(`http://localhost:${httpPort}/readyz`).catch(() => null))?.status === 200, 30_000);
      expect(ready).toBe(true);
      const lines = waits(run.output());
      expect(lines[1]!.retryInMs).toBeGreaterThan(lines[0]!.retryInMs);
      for (const line of lines) {
        expect(line.reason).toBe('ECONNREFUSED');
        expect(line.database.startsWith(`PostgreSQL at 127.0.0.1:${relayPort}${real.pathname} (schema `)).toBe(true);
      }
      expect(run.output()).not.toContain('not-a-real-secret');
      // A working server on that database: the HTTP API answers, and a migration really ran there.
      const session = await fetch(`http://localhost:${httpPort}/api/v1/session`);
      const options = await fetch(`http://localhost:${httpPort}/api/v1/passkeys/authentication/options`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      tally.requests += 3;
      expect(session.status).toBe(401);
      expect(options.status).toBe(200);
      const check = new pg.Client({ connectionString: database.url.replace(/\?.*$/, '') });
      await check.connect();
      try {
        const schema = real.searchParams.get('schema');
        const { rows } = await check.query<{ n: string }>('SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [schema, 'ceremonies']);
        expect(Number(rows[0]!.n)).toBe(1);
      } finally {
        await check.end();
      }
      tally.notes.push(`${lines.length} waits before PostgreSQL appeared, then ready`);
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });
      await up?.close();
      await database.drop();
      record(task, tally.figures());
    }
  }, 60_000);

  it('gives up after KEYBOUND_DATABASE_START_WAIT with one line, exit 1 and no stack trace', async ({ task }) => {
    const port = await freePort();
    const run = serve(`postgres://postgres:not-a-real-secret@127.0.0.1:${port}/test`, { KEYBOUND_DATABASE_START_WAIT: '2' });
    const { code } = await run.exited;
    expect(code).toBe(1);
    const out = run.output();
    // Pauses of 250, 500, 1,000 ms, then what is left of the 2 s.
    const lines = waits(out);
    expect(lines.map((l) => l.attempt)).toEqual(lines.map((_, i) => i + 1));
    expect(lines.slice(0, 3).map((l) => l.retryInMs)).toEqual([250, 500, 1000]);
    expect(lines.reduce((sum, l) => sum + l.retryInMs, 0)).toBeLessThanOrEqual(2000);
    expect(out).toContain(`keybound: PostgreSQL at 127.0.0.1:${port}/test cannot be reached (ECONNREFUSED); gave up after KEYBOUND_DATABASE_START_WAIT (2 s)`);
    expect(out).not.toMatch(/^\s+at /m);
    expect(out).not.toContain('not-a-real-secret');
    record(task, { faults: 1 });
  }, 30_000);

  it('exits 0 on SIGTERM while it waits', async ({ task }) => {
    const port = await freePort();
    const run = serve(`postgres://postgres@127.0.0.1:${port}/test`, {});
    expect(await until(() => waits(run.output()).length > 0, 20_000)).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    record(task, { faults: 1 });
  }, 30_000);
});
