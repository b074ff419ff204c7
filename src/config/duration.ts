/**
 * Durations in configuration (`KEYBOUND_<ROLE>_RECOVERY_DELAY`): a whole number followed by a unit,
 * `s`, `m`, `h` or `d` (`24h`, `90m`, `2s`), or `0` for none. At most 30 days: a delay longer than
 * that is a mistake, not a policy.
 */
const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export const MAX_DURATION_MS = 30 * 86_400_000;

/** Milliseconds, or a sentence saying what is wrong. */
export function parseDuration(text: string): number | { problem: string } {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === '0') return 0;
  const match = /^(\d{1,9})([smhd])$/.exec(trimmed);
  if (!match) return { problem: 'expected a duration: a whole number and a unit s, m, h or d (for example 24h, 90m, 2s), or 0' };
  const ms = Number(match[1]) * UNITS[match[2]!]!;
  if (ms > MAX_DURATION_MS) return { problem: 'expected at most 30 days' };
  return ms;
}

/** `1h 30m`, `2s`, `0s`: how a duration is written back to people. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join(' ');
}
