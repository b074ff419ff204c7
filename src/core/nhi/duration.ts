/**
 * A duration as operators type it: `90d`, `12h`, `30m`, `45s`, or bare seconds (`3600`).
 * `null` for anything else. Milliseconds out.
 */
const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | null {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * UNIT_MS[match[2] || 's']!;
}
