import { describe, expect, it } from 'vitest';
import { ConfigError, configWarnings, loadConfig } from './load.ts';
import { formatDuration, parseDuration } from './duration.ts';

describe('KEYBOUND_<ROLE>_RECOVERY_DELAY', () => {
  it('parses whole numbers with s, m, h or d, and 0', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('90m')).toBe(5_400_000);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('3d')).toBe(3 * 86_400_000);
    expect(parseDuration(' 1H ')).toBe(3_600_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('0s')).toBe(0);
  });

  it('refuses anything else, and more than 30 days', () => {
    for (const bad of ['', '24', 'h', '1.5h', '-1h', '1h30m', '1w', 'soon', '31d', '0x10s', '1e3s']) {
      expect(parseDuration(bad), bad).toMatchObject({ problem: expect.any(String) });
    }
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
  });

  it('defaults: 24h for admin, 1h for member; each role set on its own; a bad value stops the start naming the key', () => {
    const base = { KEYBOUND_DATABASE_URL: 'sqlite::memory:' };
    const defaults = loadConfig(base);
    expect(defaults.roles.admin.recoveryDelayMs).toBe(86_400_000);
    expect(defaults.roles.member.recoveryDelayMs).toBe(3_600_000);
    const set = loadConfig({ ...base, KEYBOUND_ADMIN_RECOVERY_DELAY: '90m', KEYBOUND_MEMBER_RECOVERY_DELAY: '2s' });
    expect(set.roles.admin.recoveryDelayMs).toBe(5_400_000);
    expect(set.roles.member.recoveryDelayMs).toBe(2000);
    expect(() => loadConfig({ ...base, KEYBOUND_MEMBER_RECOVERY_DELAY: 'an hour' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, KEYBOUND_ADMIN_RECOVERY_DELAY: '60d' })).toThrow(/KEYBOUND_ADMIN_RECOVERY_DELAY="60d": expected at most 30 days/);
  });

  it('0 is allowed and warned about at boot', () => {
    const config = loadConfig({ KEYBOUND_DATABASE_URL: 'sqlite::memory:', KEYBOUND_ADMIN_RECOVERY_DELAY: '0' });
    expect(config.roles.admin.recoveryDelayMs).toBe(0);
    expect(configWarnings(config)).toContainEqual(expect.stringMatching(/^KEYBOUND_ADMIN_RECOVERY_DELAY=0: /));
    expect(configWarnings(loadConfig({ KEYBOUND_DATABASE_URL: 'sqlite::memory:' })).some((w) => w.includes('RECOVERY_DELAY'))).toBe(false);
  });

  it('writes durations back for people', () => {
    expect(formatDuration(86_400_000)).toBe('1d');
    expect(formatDuration(5_400_000)).toBe('1h 30m');
    expect(formatDuration(2000)).toBe('2s');
    expect(formatDuration(0)).toBe('0s');
  });
});
