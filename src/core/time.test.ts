import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTime, isoTimeOrNull } from './time.ts';

const date = (ms: number) => new Date(ms).toISOString();

describe('isoTime writes what Date#toISOString writes', () => {
  it('for every millisecond of years 0000 to 9999 (property)', () => {
    const first = Date.parse('0000-01-01T00:00:00.000Z');
    const last = Date.parse('9999-12-31T23:59:59.999Z');
    fc.assert(
      fc.property(fc.integer({ min: first, max: last }), (ms) => isoTime(ms) === date(ms)),
      { numRuns: 20_000 },
    );
  });

  it('around the days a calendar gets wrong: leap days, century years, month and year ends, the epoch', () => {
    const days = [
      '1970-01-01', '1969-12-31', '2000-02-28', '2000-02-29', '2000-03-01', '1900-02-28', '1900-03-01', '2100-02-28',
      '2100-03-01', '2024-02-29', '2023-02-28', '2023-03-01', '1600-02-29', '0000-02-29', '0000-03-01', '0001-01-01',
      '0999-12-31', '1000-01-01', '9999-12-31', '2026-12-31', '2027-01-01', '2038-01-19',
    ];
    for (const day of days) {
      const midnight = Date.parse(`${day}T00:00:00.000Z`);
      for (const ms of [midnight - 1, midnight, midnight + 1, midnight + 86_399_999, midnight + 43_200_000 + 123]) {
        expect(isoTime(ms)).toBe(date(ms));
      }
    }
  });

  it('leaves what it does not write itself to Date: other years, fractions, and times Date refuses', () => {
    for (const ms of [Date.parse('0000-01-01T00:00:00.000Z') - 1, Date.parse('9999-12-31T23:59:59.999Z') + 1, -8.64e15, 8.64e15, 1.5, -0.5]) {
      expect(isoTime(ms)).toBe(date(ms));
    }
    expect(isoTime(-0)).toBe('1970-01-01T00:00:00.000Z');
    for (const ms of [Number.NaN, Number.POSITIVE_INFINITY, 8.64e15 + 1]) expect(() => isoTime(ms)).toThrow(RangeError);
  });

  it('isoTimeOrNull: null for a missing time', () => {
    expect(isoTimeOrNull(null)).toBeNull();
    expect(isoTimeOrNull(undefined)).toBeNull();
    expect(isoTimeOrNull(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});
