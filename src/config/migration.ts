/**
 * The move from another system (README "Importing accounts"), per role:
 * - `KEYBOUND_<ROLE>_MIGRATION_UNTIL`: until when an imported account may sign in once with its old
 *   password to bind a passkey. A date (`2027-03-31`) means through the end of that day in UTC; a
 *   date and time with an offset (`2027-03-31T17:00:00+01:00`) means that instant. Unset: no password
 *   path at all.
 * - `KEYBOUND_<ROLE>_RETIRE_ON_PASSKEY`: the code factors (`totp`, `sms`, `email`) disabled when the
 *   account binds a passkey, so the weaker path does not stay open beside it.
 */
export type RetirableFactor = 'totp' | 'sms' | 'email';
const RETIRABLE: readonly RetirableFactor[] = ['totp', 'sms', 'email'];

export interface MigrationConfig {
  /** Instant (ms) from which the password path is closed; `null`: there is none. */
  readonly until: number | null;
  readonly retireOnPasskey: readonly RetirableFactor[];
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses a `_MIGRATION_UNTIL` value: the first instant the path is closed, or a problem. */
export function migrationUntil(raw: string): number | null | { problem: string } {
  const text = raw.trim();
  if (text === '') return null;
  const day = DAY.exec(text);
  if (day) {
    const start = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    if (new Date(start).toISOString().slice(0, 10) !== text) return { problem: `${text} is not a calendar date` };
    return start + 24 * 60 * 60 * 1000;
  }
  if (INSTANT.test(text) && !Number.isNaN(Date.parse(text))) return Date.parse(text);
  return { problem: `${text}: expected an ISO 8601 date (2027-03-31) or date and time with an offset` };
}

export function migrationConfig(input: { untilKey: string; until: string; retireKey: string; retire: readonly string[] }, problems: string[]): MigrationConfig {
  const parsed = migrationUntil(input.until);
  let until: number | null = null;
  if (parsed !== null && typeof parsed === 'object') problems.push(`${input.untilKey}=${input.until}: ${parsed.problem}`);
  else until = parsed;
  const listed = input.retire.map((f) => f.trim().toLowerCase()).filter(Boolean);
  const unknown = listed.filter((f) => !(RETIRABLE as readonly string[]).includes(f));
  if (unknown.length > 0) problems.push(`${input.retireKey}: ${unknown.join(', ')} is not one of totp, sms, email`);
  return { until, retireOnPasskey: [...new Set(listed.filter((f): f is RetirableFactor => (RETIRABLE as readonly string[]).includes(f)))] };
}

/**
 * `KEYBOUND_ADOPTION_REMINDERS`: whole days before a role's migration date (`14,7,1`), each from 1
 * to 365, on which an imported account still without a passkey is emailed a reminder; largest first.
 */
export function adoptionSchedule(raw: readonly string[], problems: string[]): number[] {
  const days: number[] = [];
  for (const item of raw.map((r) => r.trim()).filter(Boolean)) {
    if (!/^\d{1,3}$/.test(item) || Number(item) < 1 || Number(item) > 365) problems.push(`KEYBOUND_ADOPTION_REMINDERS: ${item} is not a whole number of days from 1 to 365`);
    else days.push(Number(item));
  }
  return [...new Set(days)].sort((a, b) => b - a);
}
