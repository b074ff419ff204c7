import { hash } from 'node:crypto';

/** The fields of an audit event the chain hash covers, in a fixed order. */
export interface ChainedFields {
  readonly seq: number;
  readonly at: number;
  readonly type: string;
  readonly outcome: string;
  readonly reason: string | null;
  readonly accountId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** JSON text exactly as stored. */
  readonly details: string;
}

/**
 * hash(n) = SHA-256(hash(n-1) || canonical(event n)). Changing, removing or reordering any stored
 * event breaks every later hash, which `verifyChain` finds.
 */
export function chainHash(prevHash: string, e: ChainedFields): string {
  const canonical = JSON.stringify([e.seq, e.at, e.type, e.outcome, e.reason, e.accountId, e.ip, e.userAgent, e.details]);
  return hash('sha256', `${prevHash}\n${canonical}`, 'base64url');
}

export interface ChainCheck {
  readonly ok: boolean;
  readonly checked: number;
  /** First sequence number whose hash or link does not match. */
  readonly brokenAt?: number;
}

/** Verifies a run of events that starts at seq 1 (or continues from `prev`). */
export function verifyChain(
  events: Iterable<ChainedFields & { prevHash: string; hash: string }>,
  prev: { seq: number; hash: string } = { seq: 0, hash: '' },
): ChainCheck {
  let checked = 0;
  let last = prev;
  for (const event of events) {
    if (event.seq !== last.seq + 1 || event.prevHash !== last.hash || chainHash(last.hash, event) !== event.hash) {
      return { ok: false, checked, brokenAt: event.seq };
    }
    last = { seq: event.seq, hash: event.hash };
    checked++;
  }
  return { ok: true, checked };
}
