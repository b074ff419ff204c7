/**
 * One-time means once (DESIGN.md principle 4) at the protocol level, on SQLite and PostgreSQL.
 * Many concurrent token requests redeem one authorization code (then one refresh token): never
 * more than one gets tokens, every other is refused with invalid_grant, and because a second use
 * is a replay, the grant is revoked with everything issued from it (RFC 6749 §4.1.2, RFC 9700
 * §4.14.2) - so whether the first request finished before the replay was seen decides only whether
 * it got tokens that are already dead. The adapter contract test shows exactly one consume wins.
 * (On PostgreSQL the store runs over a pool, so the requests race on separate connections.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { enrol, ManualClock, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { authorize, INJECT_REDIRECT, registerTestClient, tokenRequest } from '../helpers/oidcInject.ts';

const RACERS = 10;

describe.each(BACKENDS)('single use on %s', (backend) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('gives tokens for an authorization code, and for a refresh token, to at most one of many concurrent requests; the replays revoke the grant', async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()) });
    const { cookie } = await enrol(t, 'racer');
    const clientId = await registerTestClient(t);
    const { code, verifier } = await authorize(t, clientId, cookie);

    const race = async (body: Record<string, string>) => {
      const results = await Promise.all(Array.from({ length: RACERS }, () => tokenRequest(t!, body)));
      const won = results.filter((r) => r.statusCode === 200);
      expect(won.length, results.map((r) => r.body).join('\n')).toBeLessThanOrEqual(1);
      for (const lost of results.filter((r) => r.statusCode !== 200)) expect(lost.json()).toMatchObject({ error: 'invalid_grant' });
      return won[0]?.json() as { refresh_token?: string; access_token: string } | undefined;
    };

    const redeem = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId };
    const fromCode = await race(redeem);
    // The replays revoked the grant: a refresh token the winner may have got is dead too.
    if (fromCode?.refresh_token) {
      expect((await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: fromCode.refresh_token, client_id: clientId })).json()).toMatchObject({ error: 'invalid_grant' });
    }

    // A fresh sign-in for the refresh-token race: redeemed once, sequentially.
    const second = await authorize(t, clientId, cookie);
    const tokens = (await tokenRequest(t, { ...redeem, code: second.code, code_verifier: second.verifier })).json() as { refresh_token: string };
    expect(tokens.refresh_token).toBeTruthy();
    const refresh = { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId };
    const fromRefresh = await race(refresh);
    if (fromRefresh?.refresh_token) {
      expect((await tokenRequest(t, { ...refresh, refresh_token: fromRefresh.refresh_token })).json()).toMatchObject({ error: 'invalid_grant' });
    }
  });
});
