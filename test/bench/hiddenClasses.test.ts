/**
 * A passkey sign-in makes no new hidden class (V8 map) per request (issue 10: CPU per sign-in).
 *
 * Adding a property to a spread's copy, `{ ...a, b }`, gives the copy a map that has no parent in
 * V8's transition tree, so the added property cannot reuse an earlier transition: every call makes
 * a new map and a new descriptor array, in the old generation, where only a major collection frees
 * them. On the sign-in path that was seven maps a sign-in, and the garbage collector's work grew
 * with them (BENCHMARKS.md, eleventh look). This test runs a real server under `--log-maps` and
 * counts such transitions ("prototype" in the log's reason column: the parent is detached) by the
 * property they add, over the sign-ins after a warm-up. A property added once per sign-in shows up
 * as often as there are sign-ins. (Start-up has its own: Node.js's `fs` adds `encoding` to a copy for
 * each module it reads, a few hundred times; the warm-up keeps those out of the count.)
 *
 * Counts, not time: the number of maps a request makes does not depend on the machine.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/server.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { enrolOver, inviteMany, signInOver, type Enrolment } from '../reliability/support/ceremonies.ts';
import { Client } from '../reliability/support/client.ts';

const ACCOUNTS = 10;
const SIGN_INS = 300;
const WARM_UP = 50;

/**
 * Kysely's `TransactionBuilder.execute` builds the transaction's properties with a spread and
 * freezes them: one detached transition a transaction, keyed by V8's internal (nameless) "frozen"
 * symbol. It is inside Kysely and costs one map a sign-in; it is the one allowed here, at most one
 * a sign-in.
 */
const KYSELY_FREEZE = /^symbol\(hash [0-9a-f]+\)$/;

/** Detached-parent transitions by the property they add, from a V8 `--log-maps` log. */
function detachedTransitions(log: string): Map<string, number> {
  const byName = new Map<string, number>();
  for (const line of log.split('\n')) {
    if (!line.startsWith('map,Transition,')) continue;
    // map,Transition,<time>,<from>,<to>,<pc>,<line>,<column>,<reason>,<name>
    const fields = line.split(',');
    if (fields[8] !== 'prototype') continue;
    const name = fields.slice(9).join(',');
    byName.set(name, (byName.get(name) ?? 0) + 1);
  }
  return byName;
}

describe('hidden classes per passkey sign-in', () => {
  const folder = mkdtempSync(join(tmpdir(), 'keybound-maps-'));
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('no property is added to a detached copy once per sign-in (Kysely\'s transaction freeze aside)', { timeout: 180_000 }, async () => {
    const logFile = join(folder, 'maps.log');
    server = await startServer({ nodeFlags: ['--log-maps', `--logfile=${logFile}`, '--no-logfile-per-isolate'] });
    const client = new Client(server.baseUrl, { origin: server.baseUrl });
    const invitations = await inviteMany(server.databaseUrl, 'shapes', ACCOUNTS);
    const enrolled: Enrolment[] = [];
    for (const invitation of invitations) {
      const enrolment = await enrolOver(client, client, invitation, new SoftAuthenticator({ origin: server.baseUrl }));
      if (!enrolment.ok) throw new Error(`enrolment: ${enrolment.answer.status} ${JSON.stringify(enrolment.answer.json)}`);
      enrolled.push(enrolment.value);
    }
    const signIn = async (i: number) => {
      const signedIn = await signInOver(client, client, enrolled[i % ACCOUNTS]!.authenticator);
      if (!signedIn.ok) throw new Error(`sign-in ${i}: ${signedIn.answer.status} ${JSON.stringify(signedIn.answer.json)}`);
    };
    // Warm-up: the modules a first sign-in loads, and their start-up work, are not counted.
    for (let i = 0; i < WARM_UP; i++) await signIn(i);
    // V8 writes the log as it goes (a few hundred bytes may wait in its buffer): what the measured
    // sign-ins log starts at about this offset, and all of it is on disk once the process has exited.
    const from = statSync(logFile).size;
    for (let i = 0; i < SIGN_INS; i++) await signIn(i);
    await server.stop();
    server = undefined;

    const byName = detachedTransitions(readFileSync(logFile, 'latin1').slice(from));
    // The log is real: the measured sign-ins made detached transitions at all (Kysely's).
    expect([...byName.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const perSignIn = [...byName].filter(([, count]) => count >= SIGN_INS / 2).sort((a, b) => b[1] - a[1]);
    const kysely = perSignIn.filter(([name]) => KYSELY_FREEZE.test(name));
    expect(kysely.length, JSON.stringify(kysely)).toBeLessThanOrEqual(1);
    for (const [, count] of kysely) expect(count).toBeLessThanOrEqual(SIGN_INS + 10);
    expect(perSignIn.filter(([name]) => !KYSELY_FREEZE.test(name)), 'properties added to a detached copy on every sign-in (name, count)').toEqual([]);
  });
});
