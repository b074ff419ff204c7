import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from './load.ts';
import { migrationUntil } from './migration.ts';

describe('KEYBOUND_<ROLE>_MIGRATION_UNTIL and _RETIRE_ON_PASSKEY', () => {
  it('a date runs through the end of that day in UTC; a date and time with an offset is that instant; unset is no path', () => {
    expect(migrationUntil('2027-03-31')).toBe(Date.UTC(2027, 3, 1));
    expect(migrationUntil('2027-03-31T17:00:00+01:00')).toBe(Date.UTC(2027, 2, 31, 16));
    expect(migrationUntil('')).toBeNull();
    expect(migrationUntil('2027-02-30')).toEqual({ problem: '2027-02-30 is not a calendar date' });
    expect(migrationUntil('31/03/2027')).toHaveProperty('problem');
    expect(migrationUntil('2027-03-31T17:00:00')).toHaveProperty('problem');
  });

  it('loads per role, and refuses a bad value at start', () => {
    const config = loadConfig({ KEYBOUND_MEMBER_MIGRATION_UNTIL: '2027-03-31', KEYBOUND_ADMIN_RETIRE_ON_PASSKEY: 'SMS, email' });
    expect(config.roles.member.migration).toEqual({ until: Date.UTC(2027, 3, 1), retireOnPasskey: [] });
    expect(config.roles.admin.migration).toEqual({ until: null, retireOnPasskey: ['sms', 'email'] });
    expect(() => loadConfig({ KEYBOUND_ADMIN_MIGRATION_UNTIL: 'soon' })).toThrow(ConfigError);
    expect(() => loadConfig({ KEYBOUND_MEMBER_RETIRE_ON_PASSKEY: 'password' })).toThrow(/KEYBOUND_MEMBER_RETIRE_ON_PASSKEY: password is not one of totp, sms, email/);
  });
});
