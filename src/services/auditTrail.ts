import type { AuditAnchorKey } from '../core/audit/anchor.ts';
import { chainHash } from '../core/audit/chain.ts';
import type { Store } from '../store/index.ts';
import type { Deps } from './deps.ts';

export type AuditVerdict =
  | { readonly ok: true; readonly checked: number; /** Events before the anchor existed: chained, without MAC. */ readonly chainedOnly: number }
  | { readonly ok: false; readonly checked: number; /** First position that is wrong. */ readonly position: number; readonly problem: string };

const PAGE = 1000;

/**
 * Checks the whole audit trail: every link of the hash chain, every event's anchor MAC, and that the
 * chain ends where the anchored head says. The chain alone misses the newest events deleted, or an
 * event rewritten with every later hash recomputed; the MACs, under a data key that is not in the
 * database, do not.
 */
export async function verifyAuditTrail(store: Store, anchor: AuditAnchorKey): Promise<AuditVerdict> {
  // The head first: a server may append while this runs, and an append commits its event and the
  // head together, so every event up to this head is there to scan; later ones are checked by MAC.
  const head = await store.audit.head();
  let headHash: string | null = null;
  let prev = { seq: 0, hash: '' };
  let anchored = false;
  let chainedOnly = 0;
  const bad = (position: number, problem: string): AuditVerdict => ({ ok: false, checked: prev.seq, position, problem });
  const macProblem = (verdict: 'invalid' | 'unknown_key', mac: string, what: string) =>
    verdict === 'unknown_key' ? `${what} is anchored with data key ${mac.slice(0, mac.lastIndexOf('.'))}, which is not configured (KEYBOUND_DATA_KEYS keeps old keys to verify)` : `${what} was changed: its anchor MAC does not match`;
  for (;;) {
    const batch = await store.audit.scan(prev.seq + 1, PAGE);
    if (batch.length === 0) break;
    for (const event of batch) {
      if (event.seq !== prev.seq + 1) return bad(prev.seq + 1, `event ${prev.seq + 1} is missing`);
      if (event.prevHash !== prev.hash || chainHash(prev.hash, { ...event, details: event.detailsJson }) !== event.hash) {
        return bad(event.seq, `event ${event.seq} does not match its chain hash`);
      }
      if (event.mac === null) {
        if (anchored) return bad(event.seq, `event ${event.seq} has no anchor MAC, though earlier events have one`);
        chainedOnly++;
      } else {
        const verdict = anchor.check('event', event.seq, event.hash, event.mac);
        if (verdict !== 'valid') return bad(event.seq, macProblem(verdict, event.mac, `event ${event.seq}`));
        anchored = true;
      }
      if (event.seq === head.seq) headHash = event.hash;
      prev = { seq: event.seq, hash: event.hash };
    }
  }
  if (head.mac === null) {
    if (prev.seq === 0 && head.seq === 0) return { ok: true, checked: 0, chainedOnly: 0 };
    return bad(Math.max(prev.seq, 1), anchored ? 'the chain head has no anchor MAC, though events have one' : 'the audit trail is not anchored yet (it was written before anchoring); start the server once to anchor it');
  }
  const verdict = anchor.check('head', head.seq, head.hash, head.mac);
  if (verdict === 'unknown_key') return bad(prev.seq + 1, macProblem(verdict, head.mac, 'the chain head'));
  // Events up to here carry valid MACs; a forged head can only hide what came after them.
  if (verdict === 'invalid') return bad(prev.seq + 1, `the chain head was changed (its anchor MAC does not match): events after ${prev.seq} were deleted or the head rewritten`);
  if (head.seq > prev.seq) {
    return bad(prev.seq + 1, `events ${prev.seq + 1} to ${head.seq} are missing: the anchored head is event ${head.seq}, the trail ends at ${prev.seq}`);
  }
  // Events after the head were appended while this ran (each checked by its MAC above).
  if (head.seq > 0 && headHash !== head.hash) return bad(head.seq, `event ${head.seq} was rewritten: its hash differs from the anchored head`);
  return { ok: true, checked: prev.seq, chainedOnly };
}

/**
 * On a trail written before anchoring existed, appends `audit.anchored`, whose MAC anchors the head
 * from then on. A server calls it at start; it does nothing on an anchored or empty trail.
 */
export async function anchorAuditTrail(deps: Deps): Promise<boolean> {
  const head = await deps.store.audit.head();
  if (head.mac !== null || head.seq === 0) return false;
  await deps.store.audit.append({ type: 'audit.anchored', outcome: 'success', at: deps.clock(), details: { chainedOnlyThrough: head.seq } });
  return true;
}
