/**
 * `keybound clients create --backchannel-logout-uri <uri> [--backchannel-logout-session-required]`
 * (OpenID Connect Back-Channel Logout 1.0 §2.2), through the real command line: the metadata is
 * stored as oidc-provider reads it, `https://` is required but on loopback, and discovery says so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEST_DATA_KEYS } from '../helpers/constants.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { runCli } from '../helpers/server.ts';
import { startTestApp } from '../helpers/app.ts';

describe('clients create --backchannel-logout-uri', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  const create = (...extra: string[]) => runCli(['clients', 'create', '--name', 'RP', '--public', '--redirect-uri', 'https://rp.example.test/cb', '--json', ...extra], { env });

  beforeEach(async () => {
    database = await freshDatabase('sqlite');
    env = { KEYBOUND_DATABASE_URL: database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS };
  });
  afterEach(async () => database.drop());

  it('stores the URI and the sid requirement; refuses http:// off loopback, fragments and a lone --backchannel-logout-session-required', async () => {
    const made = await create('--backchannel-logout-uri', 'https://rp.example.test/backchannel', '--backchannel-logout-session-required');
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ backchannel_logout_uri: 'https://rp.example.test/backchannel', backchannel_logout_session_required: true });

    const loopback = await create('--backchannel-logout-uri', 'http://127.0.0.1:8123/logout');
    expect(loopback.code, loopback.stderr).toBe(0);
    expect(JSON.parse(loopback.stdout)).toMatchObject({ backchannel_logout_uri: 'http://127.0.0.1:8123/logout', backchannel_logout_session_required: false });

    for (const [args, said] of [
      [['--backchannel-logout-uri', 'http://rp.example.test/logout'], /https:\/\//],
      [['--backchannel-logout-uri', 'https://rp.example.test/logout#x'], /fragment/],
      [['--backchannel-logout-uri', 'not a url'], /absolute URL/],
      [['--backchannel-logout-session-required'], /needs --backchannel-logout-uri/],
    ] as const) {
      const refused = await create(...args);
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.stderr).toMatch(said);
    }
    const listed = await runCli(['clients', 'list', '--json'], { env });
    expect((JSON.parse(listed.stdout) as unknown[]).length).toBe(2);
  });
});

describe('discovery', () => {
  it('advertises back-channel logout with sid (§2.1)', async () => {
    const t = await startTestApp();
    try {
      const metadata = (await t.get('/oidc/.well-known/openid-configuration')).json() as Record<string, unknown>;
      expect(metadata).toMatchObject({ backchannel_logout_supported: true, backchannel_logout_session_supported: true });
    } finally {
      await t.close();
    }
  });
});
