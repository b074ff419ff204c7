import { randomFillSync } from 'node:crypto';
import type { Random } from '../core/tokens.ts';

/**
 * Random bytes from node:crypto's CSPRNG, drawn from a pool that is refilled 4 KiB at a time. A
 * sign-in takes three small random values (challenge, session id and secret); each call into
 * OpenSSL costs about as much as filling the whole pool, so this saves most of that cost. Bytes
 * handed out are copied and wiped from the pool, so the pool never holds a value in use.
 */
export function pooledRandom(poolSize = 4096): Random {
  const pool = Buffer.allocUnsafe(poolSize);
  let offset = poolSize;
  return (length) => {
    const out = new Uint8Array(length);
    if (length > poolSize / 8) return randomFillSync(out);
    if (offset + length > poolSize) {
      randomFillSync(pool);
      offset = 0;
    }
    out.set(pool.subarray(offset, offset + length));
    pool.fill(0, offset, offset + length);
    offset += length;
    return out;
  };
}
