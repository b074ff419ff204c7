/**
 * OWASP ASVS 5.0 16.3.2 and 16.3.3: refused authorization becomes an audit event (account, route,
 * reason) and a warn log line; cross-site, rate-limited and invalid requests are logged as security
 * events (a stable `event`, request id, address, route, never a body); and nobody can flood the audit
 * trail with refusals.
 */
import type { MockInstance } from 'vitest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { enrol, ORIGIN, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS, type Backend } from '../helpers/db.ts';
import { codeSignIn, enrolTotp, MEMBER_CODES_ENV } from '../codes/support.ts';
import { AUDITED_REFUSALS_PER_WINDOW } from '../../src/services/securityAudit.ts';

const FRESH_MS = 5 * 60 * 1000;
const CEREMONY_LIMIT = 10;
/** The rate-limit test's own client address, so the other tests' ceremonies do not count against it. */
const FLOODER = '203.0.113.7';
const idOf = (cookie: string) => cookie.split('=')[1]!.split('.')[0]!;
const del = (t: TestApp, url: string, cookie: string) => t.app.inject({ method: 'DELETE', url, headers: { cookie, origin: ORIGIN } });
const refusals = (t: TestApp) => t.store.audit.list({ type: 'authorization.refused', limit: 1000 });
type Warn = MockInstance<(fields: Record<string, unknown>, message: string) => void>;
const warnings = (warn: Warn, event: string) => warn.mock.calls.map(([fields]) => fields).filter((fields) => fields.event === event);

describe.each(BACKENDS)('refusals as security events (%s)', (backend: Backend) => {
  let t: TestApp;
  let warn: Warn;
  beforeAll(async () => {
    t = await startTestApp({ backend, env: { ...MEMBER_CODES_ENV, KEYBOUND_RATE_LIMIT_CEREMONY: String(CEREMONY_LIMIT) } });
    warn = vi.spyOn(t.deps.log, 'warn').mockImplementation(() => undefined) as Warn;
  });
  afterAll(async () => t?.close());

  it('ASVS 16.3.2: fresh_auth_required is audited with account, route and reason, and logged at warn', async () => {
    const { cookie, account } = await enrol(t, 'sec-fresh');
    t.clock.advance(FRESH_MS + 1000);
    warn.mockClear();
    const refused = await t.post('/api/v1/recovery-codes', {}, cookie);
    expect(refused.json().error).toBe('fresh_auth_required');
    const events = (await refusals(t)).filter((e) => e.accountId === account.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'failure', reason: 'fresh_auth_required', details: { method: 'POST', route: '/api/v1/recovery-codes' } });
    expect(events[0]!.ip).toBeTruthy();
    const [line] = warnings(warn, 'authorization.refused');
    expect(line).toMatchObject({ reason: 'fresh_auth_required', account: account.id, audited: true, method: 'POST', route: '/api/v1/recovery-codes' });
    expect(typeof line!.reqId).toBe('string');
    expect(typeof line!.ip).toBe('string');
  });

  it('ASVS 16.3.2: session_end_not_allowed (a code session ending a passkey session) is audited', async () => {
    const { cookie: passkeySession, account } = await enrol(t, 'sec-weak');
    const app = await enrolTotp(t, passkeySession);
    t.clock.advance(60_000);
    const coded = await codeSignIn(t, 'sec-weak', 'totp', app.code(t.clock.now));
    expect(coded.statusCode, coded.body).toBe(200);
    const codeSession = coded.cookies.find((c) => c.name.endsWith('keybound_session'))!;
    const refused = await del(t, `/api/v1/sessions/${idOf(passkeySession)}`, `${codeSession.name}=${codeSession.value}`);
    expect(refused.json().error).toBe('session_end_not_allowed');
    const events = (await refusals(t)).filter((e) => e.accountId === account.id && e.reason === 'session_end_not_allowed');
    expect(events).toHaveLength(1);
    expect(events[0]!.details).toEqual({ method: 'DELETE', route: '/api/v1/sessions/:id' });
  });

  it('ASVS 16.3.2, 16.3.3: a foreign Origin carrying a live session is audited for that account; without one it is logged only', async () => {
    const { cookie, account } = await enrol(t, 'sec-csrf');
    const [enrolled] = await t.store.sessions.listActive(account.id, t.clock.now);
    t.clock.advance(2 * 60_000);
    const before = (await refusals(t)).length;
    warn.mockClear();
    const forged = await t.app.inject({ method: 'DELETE', url: '/api/v1/sessions', headers: { cookie, origin: 'https://evil.example' } });
    expect(forged.json().error).toBe('origin_not_allowed');
    const anonymous = await t.app.inject({ method: 'POST', url: '/api/v1/passkeys/authentication/options', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, payload: {} });
    expect(anonymous.json().error).toBe('origin_not_allowed');
    const after = await refusals(t);
    expect(after).toHaveLength(before + 1);
    expect(after[0]).toMatchObject({ accountId: account.id, reason: 'origin_not_allowed', details: { method: 'DELETE', route: '/api/v1/sessions' } });
    const lines = warnings(warn, 'request.cross_site_refused');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ account: account.id, audited: true, route: '/api/v1/sessions' });
    expect(lines[1]).toMatchObject({ reason: 'origin_not_allowed', route: '/api/v1/passkeys/authentication/options' });
    expect(lines[1]!.account).toBeUndefined();
    // The refused request did not count as a use of the session (finding whose it was wrote nothing).
    const [session] = await t.store.sessions.listActive(account.id, t.clock.now);
    expect(session?.lastSeenAt).toBe(enrolled!.lastSeenAt);
  });

  it('ASVS 16.3.3: rate-limit refusals and schema validation failures are logged at warn (no body) and counted, never audited', async () => {
    const before = (await t.store.audit.list({ limit: 1000 })).length;
    warn.mockClear();
    const options = () =>
      t.app.inject({ method: 'POST', url: '/api/v1/passkeys/authentication/options', remoteAddress: FLOODER, headers: { origin: ORIGIN, 'content-type': 'application/json' }, payload: {} });
    for (let i = 0; i < CEREMONY_LIMIT; i++) expect((await options()).statusCode).toBe(200);
    expect((await options()).json().error).toBe('rate_limited');
    expect((await options()).json().error).toBe('rate_limited');
    const secret = 'not-a-username-but-a-secret-value-1234567890';
    const invalid = await t.post('/api/v1/codes/sign-in/start', { username: secret, factor: 'carrier-pigeon' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error).toBe('invalid_request');

    const limitedLines = warnings(warn, 'request.rate_limited');
    expect(limitedLines.length).toBeGreaterThanOrEqual(2);
    expect(limitedLines[0]).toMatchObject({ reason: 'rate_limited', method: 'POST', route: '/api/v1/passkeys/authentication/options' });
    const [invalidLine] = warnings(warn, 'request.invalid');
    expect(invalidLine).toMatchObject({ reason: 'invalid_request', method: 'POST', route: '/api/v1/codes/sign-in/start' });
    expect(typeof invalidLine!.reqId).toBe('string');
    expect(JSON.stringify(warn.mock.calls)).not.toContain(secret);
    expect(await t.store.audit.list({ limit: 1000 })).toHaveLength(before);
    const metrics = await t.deps.metrics.registry.getSingleMetricAsString('keybound_security_events_total');
    expect(metrics).toMatch(/event="request.rate_limited",reason="rate_limited"} [2-9]/);
    expect(metrics).toMatch(/event="request.invalid",reason="invalid_request"} [1-9]/);
  });

  it('ASVS 16.3.3: one account cannot flood the audit trail: past the budget, refusals are logged but not audited', async () => {
    const { cookie, account } = await enrol(t, 'sec-flood');
    t.clock.advance(FRESH_MS + 1000);
    warn.mockClear();
    const tries = AUDITED_REFUSALS_PER_WINDOW + 5;
    for (let i = 0; i < tries; i++) expect((await t.post('/api/v1/recovery-codes', {}, cookie)).json().error).toBe('fresh_auth_required');
    expect((await refusals(t)).filter((e) => e.accountId === account.id)).toHaveLength(AUDITED_REFUSALS_PER_WINDOW);
    const lines = warnings(warn, 'authorization.refused');
    expect(lines).toHaveLength(tries);
    expect(lines.filter((l) => l.audited === false)).toHaveLength(5);
  });
});
