/**
 * How precisely a machine credential's last use is kept (API keys, delegations to agents): to the
 * minute. `keybound nhi report` judges staleness in days (KEYBOUND_NHI_STALE_DAYS), so a finer
 * record buys nothing, and writing it on every check would turn each API-key check and token
 * exchange, reads otherwise, into a database write.
 */
export const LAST_USE_RESOLUTION_MS = 60_000;

/** Whether a use at `now` should be written, given the last one recorded. */
export function lastUseIsDue(lastUsedAt: number | null, now: number): boolean {
  return lastUsedAt === null || now - lastUsedAt >= LAST_USE_RESOLUTION_MS || now < lastUsedAt;
}
