/**
 * Shared Signals lose nothing to a crash: `kill -9` a `keybound serve` while two SETs are on their
 * way to a receiver that has not acknowledged them, make two more changes while no server runs
 * (the CLI commits them with their SETs), start a new server on the same database: the receiver
 * gets all four, each verified, the first two again under the same `jti` (delivery is at least
 * once; a receiver tells a repeat by its `jti`, RFC 8417 §2.2). Bounded: the unacknowledged
 * attempts are due again when their lease ends (2 x 5 s timeout + 10 s).
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, freshDatabase } from '../helpers/db.ts';
import { ORIGIN } from '../helpers/constants.ts';
import { runCli, startServer, type ServerProcess } from '../helpers/server.ts';
import { SSF_EVENTS } from '../../src/ssf/events.ts';
import { Receiver, verifySet } from '../ssf/support.ts';

// One public origin (so one issuer), as behind a load balancer: the restarted process listens on a new port.
const ENV = { KEYBOUND_OIDC_ALLOW_SHARED_SECRETS: 'true', KEYBOUND_ORIGIN: ORIGIN };
const ISSUER = `${ORIGIN}/oidc`;
const BOUND = () => AbortSignal.timeout(10_000);

async function token(server: ServerProcess, clientId: string, secret: string): Promise<string> {
  const response = await fetch(`${server.baseUrl}/oidc/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=ssf',
    signal: BOUND(),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function cli(server: ServerProcess, args: string[]): Promise<void> {
  const result = await server.cli(args);
  expect(result.code, result.stderr).toBe(0);
}

describe('shared signals crash safety', () => {
  it.for(BACKENDS)('kill -9 between commit and delivery loses no SET on %s', { timeout: 120_000 }, async (backend) => {
    const database = await freshDatabase(backend);
    const receiver = new Receiver();
    const endpoint = await receiver.start();
    let server: ServerProcess | undefined = await startServer({ databaseUrl: database.url, env: ENV });
    try {
      const client = await server.cliJson<{ client_id: string; client_secret: string }>(['clients', 'create', '--name', 'Receiver', '--grant-types', 'client_credentials', '--scope', 'ssf', '--json']);
      const bearer = await token(server, client.client_id, client.client_secret);
      const created = await fetch(`${server.baseUrl}/ssf/stream`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: endpoint } }),
        signal: BOUND(),
      });
      expect(created.status).toBe(201);
      const streamId = ((await created.json()) as { stream_id: string }).stream_id;

      // Two changes whose SETs reach the receiver, which holds them unanswered; then the kill.
      receiver.mode = 'hold';
      await cli(server, ['invite', 'ana']);
      await cli(server, ['accounts', 'suspend', 'ana']);
      await receiver.heldCount(1);
      await cli(server, ['accounts', 'resume', 'ana']);
      await receiver.heldCount(2);
      const exited = new Promise((resolve) => server!.child.once('exit', resolve));
      server.child.kill('SIGKILL');
      await exited;
      const env = server.env;
      server = undefined;

      // Two more changes committed while no server runs.
      const offboarded = await runCli(['accounts', 'offboard', 'ana'], { env });
      expect(offboarded.code, offboarded.stderr).toBe(0);

      receiver.mode = 'ok';
      server = await startServer({ databaseUrl: database.url, env: ENV });
      await receiver.count(4);
      const jwks = (await (await fetch(`${server.baseUrl}/oidc/jwks`, { signal: BOUND() })).json()) as { keys: unknown[] };
      const sets = await Promise.all(receiver.received.map((r) => verifySet(jwks, r.token, { issuer: ISSUER, audience: client.client_id })));
      expect(sets.map((s) => Object.keys(s.events)[0]).sort()).toEqual([SSF_EVENTS.accountDisabled, SSF_EVENTS.accountEnabled, SSF_EVENTS.accountDisabled, SSF_EVENTS.accountPurged].sort());
      // The two held before the kill come again under the same jti.
      const heldJtis = await Promise.all(receiver.held.map(async (h) => (await verifySet(jwks, h.token, { issuer: ISSUER, audience: client.client_id })).jti));
      for (const jti of heldJtis) expect(sets.map((s) => s.jti)).toContain(jti);
      const status = await fetch(`${server.baseUrl}/ssf/status?stream_id=${streamId}`, { headers: { authorization: `Bearer ${await token(server, client.client_id, client.client_secret)}` }, signal: BOUND() });
      expect(await status.json()).toMatchObject({ status: 'enabled', keybound_delivery: { pending: 0, delivered: 4 } });
    } finally {
      await server?.stop();
      await receiver.close();
      await database.drop();
    }
  });
});
