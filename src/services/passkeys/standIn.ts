import { createHmac } from 'node:crypto';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { base64url } from '../../core/bytes.ts';

/**
 * Credential shapes real passkeys show, weighted by how often: credential id length in bytes and
 * the transports the browser reported at registration (`getTransports()`, which WebAuthn §5.2.1
 * asks to be sorted lexicographically). Platform and password-manager passkeys have short ids
 * (16 to 32 bytes) and `hybrid, internal` or `internal`; security keys longer ids and `nfc, usb`
 * or `usb`. A stand-in drawn from this table looks like an account's real list.
 */
export const STAND_IN_SHAPES: readonly { readonly idBytes: number; readonly transports: readonly AuthenticatorTransport[]; readonly weight: number }[] = [
  { idBytes: 16, transports: ['hybrid', 'internal'], weight: 30 },
  { idBytes: 20, transports: ['hybrid', 'internal'], weight: 30 },
  { idBytes: 32, transports: ['internal'], weight: 15 },
  { idBytes: 32, transports: ['hybrid', 'internal'], weight: 10 },
  { idBytes: 64, transports: ['nfc', 'usb'], weight: 10 },
  { idBytes: 48, transports: ['usb'], weight: 5 },
];

/** How many passkeys an account lists, weighted: most have one or two. */
export const STAND_IN_COUNTS: readonly { readonly count: number; readonly weight: number }[] = [
  { count: 1, weight: 60 },
  { count: 2, weight: 30 },
  { count: 3, weight: 10 },
];

/**
 * The `allowCredentials` answered for a username with no passkeys (unknown, or not enrolled yet),
 * so the answer does not tell which usernames exist. Everything is drawn from HMAC-SHA256 under the
 * installation secret: the same username always gets the same list (a real account's list does
 * not change between requests either), and nobody without the secret can tell it from a real one.
 */
export function standInCredentials(secret: Uint8Array, username: string): NonNullable<PublicKeyCredentialRequestOptionsJSON['allowCredentials']> {
  const draw = (label: string, length: number) => expand(secret, `stand-in:${label}:${username}`, length);
  const count = pick(STAND_IN_COUNTS, draw('count', 4)).count;
  return Array.from({ length: count }, (_, i) => {
    const shape = pick(STAND_IN_SHAPES, draw(`shape:${i}`, 4));
    return { id: base64url.encode(draw(`id:${i}`, shape.idBytes)), type: 'public-key', transports: [...shape.transports] };
  });
}

/** `length` bytes of HMAC-SHA256 output for `label` (counter mode, as HKDF-Expand). */
function expand(secret: Uint8Array, label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let block = 0, filled = 0; filled < length; block++) {
    const chunk = createHmac('sha256', secret).update(`${label}:${block}`).digest();
    out.set(chunk.subarray(0, length - filled), filled);
    filled += Math.min(chunk.length, length - filled);
  }
  return out;
}

/** A weighted choice, by a 32-bit number drawn from `bytes`. */
function pick<T extends { readonly weight: number }>(table: readonly T[], bytes: Uint8Array): T {
  const total = table.reduce((sum, entry) => sum + entry.weight, 0);
  let at = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) % total;
  for (const entry of table) {
    if (at < entry.weight) return entry;
    at -= entry.weight;
  }
  return table.at(-1)!;
}
