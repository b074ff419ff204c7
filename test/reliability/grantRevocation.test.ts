/**
 * Issue 10, finding 6 across instances: two Keybound instances on one PostgreSQL, each with its
 * own provider, connection pool and memory (built in this process the way `serve` builds one). An
 * application gets a refresh token through instance A; the Keybound session (or its passkey, or the
 * account's state) ends through A; the refresh lands on B, which must refuse it at once. Nothing
 * about the revocation may live in A's memory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { endAccountGrants } from '../../src/services/grants.ts';
import { enrol, ManualClock, ORIGIN, secondInstance, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { authorize, INJECT_REDIRECT, registerTestClient, tokenRequest } from '../helpers/oidcInject.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';

const sessionId = (cookie: string) => cookie.split('=')[1]!.split('.')[0]!;

describe('finding 6: two instances on one PostgreSQL', () => {
  let a: TestApp | undefined;
  let b: TestApp | undefined;
  afterEach(async () => {
    await b?.close();
    await a?.close();
    a = b = undefined;
  });

  it('finding 6: sign-out / session revocation / passkey removal / passkey flagged by clone detection / account state change through A each end the refresh grant on B', async () => {
    a = await startTestApp({ backend: 'postgres', clock: new ManualClock(Date.now()) });
    b = await secondInstance(a);
    const A = a;
    const B = b;
    const clientId = await registerTestClient(A);
    /** Authorized through A, redeemed through B: a refresh token that works on B. */
    const grant = async (cookie: string) => {
      const { code, verifier } = await authorize(A, clientId, cookie);
      const tokens = await tokenRequest(B, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId });
      expect(tokens.statusCode, tokens.body).toBe(200);
      const first = (tokens.json() as { refresh_token: string }).refresh_token;
      const again = await tokenRequest(B, { grant_type: 'refresh_token', refresh_token: first, client_id: clientId });
      expect(again.statusCode, again.body).toBe(200);
      return (again.json() as { refresh_token: string }).refresh_token;
    };
    const refusedOnB = async (token: string) => {
      const response = await tokenRequest(B, { grant_type: 'refresh_token', refresh_token: token, client_id: clientId });
      return response.statusCode === 400 && (response.json() as { error: string }).error === 'invalid_grant';
    };

    const { cookie, authenticator, account } = await enrol(A, 'across');

    // Sign-out through A.
    const signedOut = sessionCookie(await signIn(A, authenticator));
    const t1 = await grant(signedOut);
    expect((await A.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: signedOut, origin: ORIGIN } })).statusCode).toBe(204);
    expect(await refusedOnB(t1)).toBe(true);

    // Revocation of another session through A.
    const other = sessionCookie(await signIn(A, authenticator));
    const t2 = await grant(other);
    expect((await A.app.inject({ method: 'DELETE', url: `/api/v1/sessions/${sessionId(other)}`, headers: { cookie, origin: ORIGIN } })).statusCode).toBe(204);
    expect(await refusedOnB(t2)).toBe(true);

    // Removal through A of the passkey a session signed in with.
    const phone = new SoftAuthenticator();
    const options = await A.post('/api/v1/passkeys/registration/options', {}, cookie);
    const added = await A.post('/api/v1/passkeys/registration/verify', { response: phone.create(options.json()), nickname: 'Phone' }, cookie);
    expect(added.statusCode, added.body).toBe(201);
    const t3 = await grant(sessionCookie(await signIn(A, phone)));
    expect((await A.app.inject({ method: 'DELETE', url: `/api/v1/passkeys/${added.json().passkey.id}`, headers: { cookie, origin: ORIGIN } })).statusCode).toBe(204);
    expect(await refusedOnB(t3)).toBe(true);

    // Clone detection on A: a sign-in with a counter that did not grow flags the passkey.
    const t4 = await grant(sessionCookie(await signIn(A, authenticator)));
    const stored = (await A.store.passkeys.listByAccount(account.id)).find((p) => p.status === 'active')!;
    expect((await signIn(A, authenticator, { signCount: stored.signCount })).json().error).toBe('passkey_sign_count_regressed');
    expect(await refusedOnB(t4)).toBe(true);

    // An account state change through A's store (what suspend and offboard call), then reactivation.
    const fresh = await enrol(A, 'across-2');
    const t5 = await grant(fresh.cookie);
    await A.store.transaction(async (tx) => {
      await tx.accounts.setStatus(fresh.account.id, 'suspended', A.clock.now);
      await tx.sessions.revokeAllForAccount(fresh.account.id, A.clock.now);
      await endAccountGrants(tx, fresh.account.id);
    });
    await A.store.accounts.setStatus(fresh.account.id, 'active', A.clock.now);
    expect(await refusedOnB(t5)).toBe(true);
  });
});
