const DAY_MS = 86_400_000;
/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the years written with four digits. */
const FIRST_MS = -62_167_219_200_000;
const LAST_MS = 253_402_300_799_999;
/** Days from 0000-03-01 to 1970-01-01, counting from a March so that a leap day ends its year. */
const EPOCH_FROM_MARCH_0000 = 719_468;
/** Days in 400 Gregorian years. */
const ERA_DAYS = 146_097;

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const three = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/**
 * The text of `new Date(ms).toISOString()` (RFC 3339, `2026-12-07T09:20:16.000Z`), computed without
 * a Date. Every sign-in's answer carries five of these (the session's times), and V8 formats a
 * Date's through its date cache and `snprintf`: about 0.85 µs each here against 0.2 µs this way.
 * Years outside 0000–9999, and anything that is not a whole number of milliseconds, go to Date,
 * which also throws for a time it cannot hold.
 */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < FIRST_MS || ms > LAST_MS) return new Date(ms).toISOString();
  const days = Math.floor(ms / DAY_MS);
  const inDay = ms - days * DAY_MS;
  // The date, in years that start on 1 March (the leap day then closes a year), in eras of 400
  // years, whose calendar repeats exactly.
  const fromMarch = days + EPOCH_FROM_MARCH_0000;
  const era = Math.floor(fromMarch / ERA_DAYS);
  const dayOfEra = fromMarch - era * ERA_DAYS;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  // Months from March have 31, 30, 31, 30, 31 days and then the same again: 153 days in 5 months.
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = era * 400 + yearOfEra + (month <= 2 ? 1 : 0);
  const yyyy = year < 1000 ? `000${year}`.slice(-4) : `${year}`;
  const hours = Math.floor(inDay / 3_600_000);
  const minutes = Math.floor(inDay / 60_000) % 60;
  const seconds = Math.floor(inDay / 1000) % 60;
  return `${yyyy}-${two(month)}-${two(day)}T${two(hours)}:${two(minutes)}:${two(seconds)}.${three(inDay % 1000)}Z`;
}

/** `isoTime`, with `null` for a time that is not there. */
export const isoTimeOrNull = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : isoTime(ms));
