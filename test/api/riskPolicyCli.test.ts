/**
 * `keybound policy check|test` (docs/risk.md) as an operator runs them: the real CLI in a child
 * process. `check` names the path of every bad field; `test` replays the sign-ins of the audit trail
 * of a database an in-process server wrote (SQLite and PostgreSQL) through the configured rules or a
 * candidate file. A server refuses to start on a bad policy file, saying why.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrol, ManualClock, ORIGIN, signIn, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { runCli } from '../helpers/server.ts';
import { buildCityDb, TEST_PLACES } from '../helpers/mmdb.ts';

const dir = mkdtempSync(join(tmpdir(), 'keybound-policy-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const cityDb = file('city.mmdb', '');
writeFileSync(cityDb, buildCityDb(TEST_PLACES));

describe('keybound policy check', () => {
  it('accepts a valid file and names every bad field of an invalid one', async () => {
    const good = file('good.json', { rules: [{ name: 'no_codes_abroad', when: { signals: ['new_country'], factor: ['code'] }, then: 'deny' }] });
    expect(await runCli(['policy', 'check', good], { env: {} })).toMatchObject({ code: 0, stdout: `${good}: valid, 1 rule: no_codes_abroad\n` });
    const bad = file('bad.json', { rules: [{ when: { signals: ['new_planet'] }, then: { step_up: { acr: 'gold', max_age: 'soon' } } }] });
    const refused = await runCli(['policy', 'check', bad], { env: {} });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`KEYBOUND_POLICY_FILE ${bad} is not a valid policy:`);
    expect(refused.stderr).toContain('rules[0].when.signals[0]: "new_planet" is not one of new_device,');
    expect(refused.stderr).toContain('rules[0].then.step_up.acr: must be one of urn:keybound:aal1');
    expect(refused.stderr).toContain('rules[0].then.step_up.max_age: must be a whole number of seconds');
    expect((await runCli(['policy', 'check', file('broken.json', '{"rules": [')], { env: {} })).stderr).toMatch(/\(file\): is not JSON/);
    expect((await runCli(['policy', 'check', join(dir, 'missing.json')], { env: {} })).stderr).toMatch(/cannot be read \(ENOENT\)/);
  });

  it('a bad policy file stops every command, the server included, with the same message', async () => {
    const bad = file('bad-serve.json', { rules: [{ then: 'maybe' }] });
    const answer = await runCli(['serve'], { env: { KEYBOUND_POLICY_FILE: bad, KEYBOUND_DATABASE_URL: `sqlite:${join(dir, 'serve.db')}`, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS, KEYBOUND_PORT: '0' } });
    expect(answer.code).toBe(1);
    expect(answer.stderr).toContain('rules[0].then: must be "allow", "deny" or');
  });
});

describe.each(BACKENDS)('keybound policy test on %s', (backend) => {
  let t: TestApp;
  const env = () => ({ KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS, KEYBOUND_GEOIP_DB: cityDb });
  beforeAll(async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now() - 3_600_000), env: { KEYBOUND_GEOIP_DB: cityDb } });
    const { authenticator } = await enrol(t, 'dora');
    t.clock.advance(600_000);
    const options = await t.post('/api/v1/passkeys/authentication/options', {});
    const response = authenticator.get(options.json());
    const paris = await t.app.inject({ method: 'POST', url: '/api/v1/passkeys/authentication/verify', remoteAddress: '198.51.100.7', payload: { response }, headers: { origin: ORIGIN, 'content-type': 'application/json' } });
    expect(paris.statusCode).toBe(200);
    expect((await signIn(t, authenticator)).statusCode).toBe(200);
  }, 60_000);
  afterAll(async () => t?.close());

  it('replays the sign-ins through the configured rules, and through a stricter candidate', async () => {
    const builtIn = await runCli(['policy', 'test', '--since', '7d'], { env: env() });
    expect(builtIn.code, builtIn.stderr).toBe(0);
    expect(builtIn.stdout).toMatch(/dora {2}enrolment {2}was success {2}would allow\n/);
    expect(builtIn.stdout).toMatch(/3 sign-ins replayed through built-in: 3 allowed, 0 stepped up, 0 denied\n$/);

    const strict = file(`strict-${backend}.json`, { rules: [{ name: 'stay_home', when: { signals: ['new_country'] }, then: 'deny' }] });
    const json = await runCli(['policy', 'test', '--file', strict, '--json'], { env: env() });
    expect(json.code, json.stderr).toBe(0);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.method, l.decision, l.reasons])).toEqual([
      ['enrolment', 'allow', []],
      ['passkey', 'deny', ['new_country']],
      ['passkey', 'allow', []],
    ]);
    // London to Paris in ten minutes is impossible travel too; this candidate acts on the country only.
    expect(lines[1]).toMatchObject({ account: 'dora', recorded: 'success', signals: ['new_country', 'impossible_travel'] });
  }, 60_000);
});
