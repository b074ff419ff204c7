/**
 * Remembers DPoP proof `jti`s until they could no longer be accepted anyway (RFC 9449 §11.1).
 * In memory and per process: behind a load balancer, give every instance of a resource server a
 * shared implementation of this interface (a database or cache with an atomic set-if-absent).
 */
export interface ReplayCache {
  /** `true` the first time `key` is seen before `expiresAt` (ms), `false` after. */
  firstUse(key: string, expiresAt: number, now: number): boolean | Promise<boolean>;
}

export class MemoryReplayCache implements ReplayCache {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  firstUse(key: string, expiresAt: number, now: number): boolean {
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    if (this.seen.size >= this.maxEntries) this.sweep(now);
    // Still full of live entries: refuse rather than forget one and allow a replay.
    if (this.seen.size >= this.maxEntries) return false;
    this.seen.set(key, expiresAt);
    return true;
  }

  private sweep(now: number): void {
    for (const [key, until] of this.seen) if (until <= now) this.seen.delete(key);
  }
}
