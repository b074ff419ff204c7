/**
 * Shared Signals with two instances on one PostgreSQL database (in-process apps, each with its own
 * provider, pool and dispatcher, as `serve` builds them): every SET owed is delivered exactly once,
 * whichever instance's dispatcher claims it; of two claims of one row, exactly one wins.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { enrol, ManualClock, ORIGIN, secondInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { clientToken, Receiver, ssf, ssfClient, verifySet } from './support.ts';

describe('shared signals with two instances on postgres', () => {
  const apps: TestApp[] = [];
  let receiver: Receiver | undefined;
  afterEach(async () => {
    // The second instance first: the first drops the database.
    for (const app of apps.reverse()) await app.close();
    apps.length = 0;
    await receiver?.close();
  });

  it('delivers each SET once when both dispatchers run at the same time', async () => {
    const a = await startTestApp({ backend: 'postgres', clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_ALLOW_SHARED_SECRETS: 'true' } });
    apps.push(a);
    const b = await secondInstance(a, { KEYBOUND_OIDC_ALLOW_SHARED_SECRETS: 'true' });
    apps.push(b);
    receiver = new Receiver();
    const endpoint = await receiver.start();
    const client = await ssfClient(a);
    // The token comes from B's token endpoint; the stream is made on A.
    const token = await clientToken(b, client);
    const created = await ssf(a, 'POST', '/ssf/stream', token, { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: endpoint } });
    expect(created.statusCode, created.body).toBe(201);

    // Paused while the events are made, so that both dispatchers start on all of them together.
    const id = created.json().stream_id as string;
    await ssf(a, 'POST', '/ssf/status', token, { stream_id: id, status: 'paused' });
    // Ten people enrol (a passkey each) and sign out, half on each instance: twenty SETs owed.
    for (let i = 0; i < 10; i++) {
      const on = i % 2 === 0 ? a : b;
      const { cookie } = await enrol(on, `person${i}`);
      expect((await on.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin: ORIGIN } })).statusCode).toBe(204);
    }
    const owed = await a.store.ssfStreams.pending(id);
    expect(owed).toBe(20);
    await ssf(b, 'POST', '/ssf/status', token, { stream_id: id, status: 'enabled' });

    // Both instances claim and send at once, until nothing is left.
    // (`pending` counts rows claimed by either instance's own timer too, until they are settled.)
    for (let round = 0; round < 200 && (await a.store.ssfStreams.pending(id)) > 0; round++) {
      await Promise.all([a.app.ssfDispatcher!.runOnce(), b.app.ssfDispatcher!.runOnce()]);
      await Promise.all([a.app.ssfDispatcher!.idle(), b.app.ssfDispatcher!.idle()]);
    }
    await receiver.count(owed);
    const jwks = (await a.get('/oidc/jwks')).json() as { keys: unknown[] };
    const sets = await Promise.all(receiver.received.map((r) => verifySet(jwks, r.token, { issuer: a.config.oidc.issuer, audience: client.clientId })));
    expect(sets).toHaveLength(owed);
    expect(new Set(sets.map((s) => s.jti)).size).toBe(owed);
    expect((await ssf(b, 'GET', `/ssf/status?stream_id=${id}`, token)).json()).toMatchObject({ keybound_delivery: { pending: 0, delivered: owed, failed: 0 } });
  });

  it('of two instances claiming the same SET at once, exactly one wins', async () => {
    const a = await startTestApp({ backend: 'postgres', clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_ALLOW_SHARED_SECRETS: 'true' } });
    apps.push(a);
    const b = await secondInstance(a, { KEYBOUND_OIDC_ALLOW_SHARED_SECRETS: 'true' });
    apps.push(b);
    // Paused, so neither dispatcher's timer takes the rows first.
    const client = await ssfClient(a);
    const token = await clientToken(a, client);
    const id = (await ssf(a, 'POST', '/ssf/stream', token, { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'http://127.0.0.1:9/events' } })).json().stream_id as string;
    await ssf(a, 'POST', '/ssf/status', token, { stream_id: id, status: 'paused' });
    for (let i = 0; i < 20; i++) expect((await ssf(a, 'POST', '/ssf/verify', token, { stream_id: id, state: String(i) })).statusCode).toBe(204);
    await ssf(a, 'POST', '/ssf/status', token, { stream_id: id, status: 'enabled' });
    const rows = await a.store.ssfOutbox.listDue(a.clock.now, 100);
    await a.app.ssfDispatcher!.close();
    await b.app.ssfDispatcher!.close();
    const fresh = rows.filter((r) => r.attempts === 0);
    expect(fresh.length).toBeGreaterThan(0);
    for (const row of fresh) {
      const now = a.clock.now;
      const won = await Promise.all([a.store.ssfOutbox.claim(row.id, 0, now, now + 60_000), b.store.ssfOutbox.claim(row.id, 0, now, now + 60_000)]);
      expect(won.filter(Boolean)).toHaveLength(1);
    }
  });
});
