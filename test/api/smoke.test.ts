import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrol, signIn, startTestApp, sessionCookie, type TestApp } from '../helpers/app.ts';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('enrols and signs in', async () => {
    const { cookie, authenticator, body } = await enrol(t, 'alice');
    expect(body.acr).toBe('urn:keybound:aal2:phr');
    const session = await t.get('/api/v1/session', cookie);
    expect(session.statusCode).toBe(200);
    const again = await signIn(t, authenticator);
    expect(again.statusCode, again.body).toBe(200);
    expect(sessionCookie(again)).toMatch(/keybound_session=/);
  });
});
