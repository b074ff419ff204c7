import { createHash, hkdfSync, timingSafeEqual, type Hash } from 'node:crypto';

/**
 * The audit chain's anchor. The hash chain alone shows that stored events link up, not that they are
 * all there or unaltered: whoever can write the database can delete the newest events, or rewrite one
 * and recompute every later hash. So each event, and the chain's head, also carries an HMAC under a
 * key that does not live in the database (derived from a data key, KEYBOUND_DATA_KEYS or the key file).
 * Without that key no one can make a MAC that verifies.
 *
 * Stored form: `<data key id>.<base64url HMAC-SHA256>`, so the data keys can rotate: the current
 * key signs, every configured key verifies.
 *
 * What it cannot see: the whole database put back to an older state (events and head together, as
 * from a backup) is an older chain that verifies. Keep `keybound audit list --json` off the host for that.
 */
export interface AuditAnchorKey {
  /** MAC of the event at `seq` with chain hash `hash`. */
  signEvent(seq: number, hash: string): string;
  /** MAC of the head: the chain ends at `seq` with `hash`. */
  signHead(seq: number, hash: string): string;
  /** `unknown_key` when the MAC names a data key that is not configured. */
  check(kind: 'event' | 'head', seq: number, hash: string, mac: string): 'valid' | 'invalid' | 'unknown_key';
}

/** Builds the anchor key from data keys; the first one signs. */
export function auditAnchorKey(keys: readonly { readonly id: string; readonly key: Uint8Array }[]): AuditAnchorKey {
  // A key of its own per purpose: the data key also encrypts, so the MAC key is derived (RFC 5869).
  const derived = new Map(keys.map((k) => [k.id, hmacSha256(Buffer.from(hkdfSync('sha256', k.key, new Uint8Array(0), 'keybound audit anchor v1', 32)))]));
  const current = keys[0]!.id;
  // Events and the head are signed under different labels, so an old event's MAC can never stand in
  // for a head that ends at that event (which would let the newest events be deleted unseen).
  const mac = (kid: string, kind: 'event' | 'head', seq: number, hash: string) => derived.get(kid)!(`${kind}\n${seq}\n${hash}`);
  return {
    signEvent: (seq, hash) => `${current}.${mac(current, 'event', seq, hash)}`,
    signHead: (seq, hash) => `${current}.${mac(current, 'head', seq, hash)}`,
    check(kind, seq, hash, stored) {
      const dot = stored.lastIndexOf('.');
      const kid = stored.slice(0, dot);
      if (dot < 1 || !derived.has(kid)) return 'unknown_key';
      const expected = Buffer.from(mac(kid, kind, seq, hash));
      const given = Buffer.from(stored.slice(dot + 1));
      return given.length === expected.length && timingSafeEqual(given, expected) ? 'valid' : 'invalid';
    },
  };
}

/**
 * HMAC-SHA256 under a fixed key of at most 64 bytes (RFC 2104), base64url. The hash states after
 * the key's inner and outer pads are computed once and copied for each MAC: every append signs its
 * event and the head, and `createHmac` sets OpenSSL's MAC up from the key each time (35,700 against
 * 28,900 instructions a MAC in a loop under callgrind). The same bytes as `createHmac` (anchor.test.ts).
 */
export function hmacSha256(key: Uint8Array): (message: string) => string {
  if (key.length > 64) throw new Error('hmacSha256: keys longer than the block are hashed first; not needed here');
  const pad = (byte: number): Hash => {
    const block = Buffer.alloc(64, byte);
    for (let i = 0; i < key.length; i++) block[i]! ^= key[i]!;
    return createHash('sha256').update(block);
  };
  const inner = pad(0x36);
  const outer = pad(0x5c);
  return (message) => outer.copy().update(inner.copy().update(message).digest()).digest('base64url');
}
