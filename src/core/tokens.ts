import { hash, timingSafeEqual } from 'node:crypto';
import { base64url } from './bytes.ts';

/** A source of random bytes; passed in so tests can pin it. */
export type Random = (length: number) => Uint8Array;
/** Milliseconds since the epoch; passed in so tests can pin it. */
export type Clock = () => number;

/**
 * A bearer token in the form `id.secret`. The id finds the row; only SHA-256 of the secret is
 * stored, and it is compared in constant time, so a database read gives no usable token.
 */
export interface SplitToken {
  readonly id: string;
  readonly secret: string;
}

const ID_BYTES = 12;
const SECRET_BYTES = 32;

export function newToken(random: Random): SplitToken & { readonly token: string } {
  const id = base64url.encode(random(ID_BYTES));
  const secret = base64url.encode(random(SECRET_BYTES));
  return { id, secret, token: `${id}.${secret}` };
}

/** Parses `id.secret`; anything else (wrong shape, wrong lengths, stray characters) is `null`. */
export function parseToken(token: string): SplitToken | null {
  if (token.length !== 16 + 1 + 43) return null;
  const dot = token.indexOf('.');
  if (dot !== 16) return null;
  const id = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(id) || !/^[A-Za-z0-9_-]+$/.test(secret)) return null;
  return { id, secret };
}

/** SHA-256 of a secret, base64url-encoded: what the database keeps. */
export function hashSecret(secret: string): string {
  // One-shot `hash` (Node.js 20.12+): no Hash object per call, on every sign-in's hot path.
  return hash('sha256', secret, 'base64url');
}

/** Constant-time comparison of a presented secret against a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'base64url');
  const b = Buffer.from(storedHash, 'base64url');
  return a.length === b.length && timingSafeEqual(a, b);
}
