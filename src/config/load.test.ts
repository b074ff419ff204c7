import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from './defaults.ts';
import { TEST_DATA_KEYS } from '../../test/helpers/constants.ts';
import { ConfigError, configWarnings, loadConfig } from './load.ts';

describe('loadConfig', () => {
  it('has working defaults for npm start', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      origins: ['http://localhost:8080'],
      publicUrl: 'http://localhost:8080',
      rpId: 'localhost',
      databaseUrl: 'sqlite:./data/keybound.db',
      attestation: 'none',
      secureCookies: false,
      challengeTtlMs: 300_000,
      roles: { admin: { allowSyncedPasskeys: false }, member: { allowSyncedPasskeys: true } },
    });
    expect(config.sessionLimits[3]).toEqual({ idleMs: 15 * 60_000, maxMs: 12 * 3600_000 });
    expect(config.sessionLimits[2]).toEqual({ idleMs: 3600_000, maxMs: 24 * 3600_000 });
  });

  it('KEYBOUND_<ROLE>_RECOVERY: by level when unset, off, code, code+factors; bad values stop the start', () => {
    // Unset: AAL2 roles need a second proof, from what can be delivered; AAL1 roles one saved code.
    expect(loadConfig({}).roles.admin.recovery).toEqual({ enabled: true, proofs: ['totp'] });
    const mailed = loadConfig({ KEYBOUND_SMTP_URL: 'smtp://127.0.0.1:25', KEYBOUND_SMS_PROVIDER: 'console', KEYBOUND_MEMBER_MIN_AAL: '1' });
    expect(mailed.roles.admin.recovery).toEqual({ enabled: true, proofs: ['totp', 'sms', 'email'] });
    expect(mailed.roles.member.recovery).toEqual({ enabled: true, proofs: [] });
    expect(loadConfig({ KEYBOUND_MEMBER_RECOVERY: 'off' }).roles.member.recovery).toEqual({ enabled: false, proofs: [] });
    expect(loadConfig({ KEYBOUND_ADMIN_RECOVERY: ' Code+TOTP ' }).roles.admin.recovery).toEqual({ enabled: true, proofs: ['totp'] });
    for (const bad of ['codes', 'code+', 'code+passkey', 'totp']) expect(() => loadConfig({ KEYBOUND_ADMIN_RECOVERY: bad }), bad).toThrow(/KEYBOUND_ADMIN_RECOVERY/);
    expect(() => loadConfig({ KEYBOUND_MEMBER_RECOVERY: 'code+email' })).toThrow(/KEYBOUND_SMTP_URL is not set/);
    // One code for an AAL2 role, and `recovery` as a sign-in factor, are allowed but said at boot.
    expect(configWarnings(loadConfig({ KEYBOUND_ADMIN_RECOVERY: 'code' })).join('\n')).toMatch(/KEYBOUND_ADMIN_RECOVERY=code: one saved code recovers an AAL2 account/);
    const listed = loadConfig({ KEYBOUND_MEMBER_CODE_FACTORS: 'totp,recovery', KEYBOUND_MEMBER_MIN_AAL: '1' });
    expect(listed.roles.member.codeFactors).toEqual(['totp']);
    expect(configWarnings(listed).join('\n')).toMatch(/KEYBOUND_MEMBER_CODE_FACTORS includes recovery, which is ignored/);
  });

  it('takes several origins and marks cookies Secure outside plain localhost', () => {
    const config = loadConfig({ KEYBOUND_ORIGIN: 'https://id.example.com, https://login.example.com', KEYBOUND_RP_ID: 'example.com', KEYBOUND_DATA_KEYS: '' });
    expect(config.origins).toEqual(['https://id.example.com', 'https://login.example.com']);
    expect(config.secureCookies).toBe(true);
  });

  it.each([
    [{ KEYBOUND_PORT: 'eighty' }, /KEYBOUND_PORT.*whole number/],
    [{ KEYBOUND_PORT: '70000' }, /KEYBOUND_PORT.*0 to 65535/],
    [{ KEYBOUND_ORIGIN: 'localhost:8080' }, /KEYBOUND_ORIGIN/],
    [{ KEYBOUND_ORIGIN: 'https://a.example/path' }, /not an origin/],
    [{ KEYBOUND_RP_ID: 'example.com' }, /KEYBOUND_RP_ID=example.com is not the host/],
    [{ KEYBOUND_ATTESTATION: 'indirect' }, /expected one of none, direct/],
    [{ KEYBOUND_ATTESTATION: 'direct' }, /needs KEYBOUND_ATTESTATION_AAGUIDS or KEYBOUND_ATTESTATION_TRUST_ANCHORS/],
    [{ KEYBOUND_ATTESTATION_AAGUIDS: 'not-a-guid' }, /not an AAGUID/],
    [{ KEYBOUND_MEMBER_ALLOW_SYNCED_PASSKEYS: 'maybe' }, /expected true or false/],
    [{ KEYBOUND_DATABASE_URL: 'postgres://localhost/x' }, /KEYBOUND_DATA_KEYS is required with PostgreSQL/],
    [{ KEYBOUND_DATA_KEYS: 'k1:short' }, /KEYBOUND_DATA_KEYS/],
  ])('refuses %o with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reports every bad key at once', () => {
    expect(() => loadConfig({ KEYBOUND_PORT: 'x', KEYBOUND_CHALLENGE_TTL: '-1' })).toThrow(/KEYBOUND_PORT[\s\S]*KEYBOUND_CHALLENGE_TTL/);
  });

  it('ASVS 6.5.5: caps the TOTP period at 30 s and accepts the previous step at most', () => {
    expect(() => loadConfig({ KEYBOUND_TOTP_PERIOD: '60' })).toThrow(/KEYBOUND_TOTP_PERIOD=60: expected a number from 1 to 30/);
    expect(() => loadConfig({ KEYBOUND_TOTP_WINDOW: '2' })).toThrow(/KEYBOUND_TOTP_WINDOW=2: expected a number from 0 to 1/);
    expect(loadConfig({}).codes.totp).toMatchObject({ period: 30, window: 1 });
  });

  it('ASVS 10.4.3: an authorization code lives at most 600 s; a longer one stops the start with a clear message', () => {
    expect(() => loadConfig({ KEYBOUND_OIDC_CODE_TTL: '601' })).toThrow(ConfigError);
    expect(() => loadConfig({ KEYBOUND_OIDC_CODE_TTL: '3600' })).toThrow(/KEYBOUND_OIDC_CODE_TTL=3600: an authorization code may live at most 600 seconds/);
    expect(() => loadConfig({ KEYBOUND_OIDC_CODE_TTL: '0' })).toThrow(/KEYBOUND_OIDC_CODE_TTL/);
    expect(loadConfig({ KEYBOUND_OIDC_CODE_TTL: '600' }).oidc.codeTtlS).toBe(600);
    expect(loadConfig({}).oidc.codeTtlS).toBe(60);
  });

  it('ASVS 12.3.1: refuses a plain-http SMS gateway except on loopback', () => {
    const sms = (url: string) => loadConfig({ KEYBOUND_SMS_PROVIDER: 'http', KEYBOUND_SMS_URL: url });
    expect(() => sms('http://sms.example.com/send')).toThrow(ConfigError);
    expect(() => sms('http://sms.example.com/send')).toThrow(/KEYBOUND_SMS_URL=http:\/\/sms.example.com: plain http:\/\/ .* use https:\/\//);
    expect(() => sms('http://10.0.0.5:8080/send')).toThrow(/KEYBOUND_SMS_URL/);
    expect(() => loadConfig({ KEYBOUND_SMS_URL: 'http://sms.example.com/send' })).toThrow(/KEYBOUND_SMS_URL/);
    for (const url of ['https://sms.example.com/send', 'http://127.0.0.1:9000/sms', 'http://localhost:9000/sms', 'http://[::1]:9000/sms']) {
      expect(sms(url).sms.url).toBe(url);
    }
    expect(configWarnings(sms('http://127.0.0.1:9000/sms')).join('\n')).toMatch(/KEYBOUND_SMS_URL is plain http/);
    expect(configWarnings(sms('https://sms.example.com/send')).join('\n')).not.toMatch(/KEYBOUND_SMS_URL/);
  });

  it('ASVS 12.3.1: requires TLS to a PostgreSQL host other than loopback unless the URL turns it off', () => {
    const pg = (url: string) => loadConfig({ KEYBOUND_DATABASE_URL: url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS });
    for (const url of ['postgres://keybound@db.example.com/keybound', 'postgres://keybound@db.example.com/keybound?sslmode=prefer', 'postgresql://k@10.1.2.3:5432/k']) {
      expect(() => pg(url)).toThrow(/KEYBOUND_DATABASE_URL: a PostgreSQL host other than loopback needs sslmode=require, verify-ca or verify-full/);
    }
    for (const mode of ['require', 'verify-ca', 'verify-full']) {
      expect(configWarnings(pg(`postgres://keybound@db.example.com/keybound?sslmode=${mode}`)).join('\n')).not.toMatch(/sslmode/);
    }
    for (const url of ['postgres://postgres@127.0.0.1:5432/test', 'postgres://postgres@localhost/test', 'postgres://postgres@[::1]/test', 'postgres://postgres@/test?host=/var/run/postgresql']) {
      expect(configWarnings(pg(url)).join('\n')).not.toMatch(/sslmode/);
    }
    const clear = pg('postgres://keybound@db.example.com/keybound?sslmode=disable');
    expect(configWarnings(clear).join('\n')).toMatch(/KEYBOUND_DATABASE_URL has sslmode=disable/);
  });

  it('machine identities: owner-offboard policy, API key lifetime and env; bad values stop the start', () => {
    expect(loadConfig({}).nhi).toEqual({ onOwnerOffboard: { action: 'disable' }, apiKeyMaxTtlMs: 90 * 86_400_000, apiKeyEnv: 'live', apiKeySelfScopes: [], delegationMaxTtlMs: 90 * 86_400_000, staleMs: 90 * 86_400_000, rotateMs: 90 * 86_400_000 });
    const set = loadConfig({ KEYBOUND_NHI_ON_OWNER_OFFBOARD: 'transfer:Platform-Team', KEYBOUND_API_KEY_MAX_TTL: '3600', KEYBOUND_API_KEY_ENV: 'test' }).nhi;
    expect(set).toMatchObject({ onOwnerOffboard: { action: 'transfer', username: 'platform-team' }, apiKeyMaxTtlMs: 3_600_000, apiKeyEnv: 'test' });
    for (const bad of ['keep', 'transfer:', 'transfer:a b', 'transfer']) expect(() => loadConfig({ KEYBOUND_NHI_ON_OWNER_OFFBOARD: bad })).toThrow(/KEYBOUND_NHI_ON_OWNER_OFFBOARD/);
    for (const bad of ['LIVE', 'li_ve', 'production']) expect(() => loadConfig({ KEYBOUND_API_KEY_ENV: bad })).toThrow(/KEYBOUND_API_KEY_ENV/);
    expect(() => loadConfig({ KEYBOUND_API_KEY_MAX_TTL: '0' })).toThrow(ConfigError);
    // Scopes people may give their own keys: some of KEYBOUND_OIDC_RESOURCE_SCOPES, nothing else.
    expect(loadConfig({ KEYBOUND_API_KEY_SELF_SCOPES: 'read, read write' }).nhi.apiKeySelfScopes).toEqual(['read', 'write']);
    expect(() => loadConfig({ KEYBOUND_API_KEY_SELF_SCOPES: 'read admin' })).toThrow(/KEYBOUND_API_KEY_SELF_SCOPES/);
  });

  it('lets a benchmark lift the rate limit', () => {
    expect(loadConfig({ KEYBOUND_RATE_LIMIT_CEREMONY: '0' }).rateLimit.ceremonyMax).toBe(0);
  });
});

describe('KEYBOUND_<ROLE>_MIN_EFFECTIVE_ACR (docs/paths.md)', () => {
  it("defaults to the role's minimum sign-in level, takes short or full acr values, and refuses others", () => {
    expect(loadConfig({}).roles.member.minEffectiveAcr).toBe('urn:keybound:aal2');
    expect(loadConfig({ KEYBOUND_MEMBER_MIN_AAL: '1' }).roles.member.minEffectiveAcr).toBe('urn:keybound:aal1');
    expect(loadConfig({ KEYBOUND_ADMIN_MIN_EFFECTIVE_ACR: 'AAL2:phr' }).roles.admin.minEffectiveAcr).toBe('urn:keybound:aal2:phr');
    expect(loadConfig({ KEYBOUND_ADMIN_MIN_EFFECTIVE_ACR: 'urn:keybound:aal3' }).roles.admin.minEffectiveAcr).toBe('urn:keybound:aal3');
    expect(() => loadConfig({ KEYBOUND_MEMBER_MIN_EFFECTIVE_ACR: 'aal4' })).toThrow(/KEYBOUND_MEMBER_MIN_EFFECTIVE_ACR=aal4: expected aal1, aal2, aal2:phr or aal3/);
  });
});

describe('README', () => {
  it('documents every configuration key with its default', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const key of CONFIG_KEYS) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${key.env}\` |`));
      expect(row, `${key.env} missing from README`).toBeDefined();
      if (key.default !== '') expect(row, `${key.env} default`).toContain(`\`${key.default}\``);
    }
  });
});
