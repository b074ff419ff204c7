import type { Random } from '../tokens.ts';

/**
 * The API key format (docs/nhi.md): `kb_<env>_<random>_<checksum>`.
 * - `<env>`: 1 to 8 lower-case letters or digits (KEYBOUND_API_KEY_ENV, `live`, `test`).
 * - `<random>`: 30 base62 characters drawn uniformly (30 × log2(62) ≈ 178.6 bits, above the 160 asked).
 * - `<checksum>`: CRC-32 (ISO-HDLC, as zlib and PNG) of `kb_<env>_<random>`, as 6 base62 digits.
 *   A scanner validates it without the database: a random look-alike passes with odds of 1 in 2^32.
 * The prefix makes keys easy to find; the checksum makes findings worth acting on.
 */
export const API_KEY_PREFIX = 'kb';
export const RANDOM_LENGTH = 30;
export const CHECKSUM_LENGTH = 6;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Anywhere in text: a candidate key (format only; `parseApiKey` checks the checksum). */
export const API_KEY_PATTERN = /(?<![A-Za-z0-9_])kb_([a-z0-9]{1,8})_([0-9A-Za-z]{30})_([0-9A-Za-z]{6})(?![A-Za-z0-9_])/g;
const WHOLE = new RegExp(`^${API_KEY_PATTERN.source.replace('(?<![A-Za-z0-9_])', '').replace('(?![A-Za-z0-9_])', '')}$`);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC) of the UTF-8 bytes of `text`. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(text)) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The checksum part for a key body (`kb_<env>_<random>`): CRC-32 in base62, 6 digits (62^6 > 2^32). */
export function checksumOf(body: string): string {
  let value = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62]! + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** Uniform base62 characters from random bytes (rejection sampling: bytes ≥ 248 are dropped, no modulo bias). */
function randomBase62(random: Random, length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of random(length * 2)) {
      if (byte >= 248) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function newApiKey(random: Random, env: string): string {
  const body = `${API_KEY_PREFIX}_${env}_${randomBase62(random, RANDOM_LENGTH)}`;
  return `${body}_${checksumOf(body)}`;
}

export interface ParsedApiKey {
  readonly env: string;
  readonly random: string;
}

/** The key's parts if it has the format and a right checksum; anything else is `null` (no database needed). */
export function parseApiKey(key: string): ParsedApiKey | null {
  if (key.length > 64) return null;
  const match = WHOLE.exec(key);
  if (!match) return null;
  const [, env, random, checksum] = match as unknown as [string, string, string, string];
  if (checksumOf(`${API_KEY_PREFIX}_${env}_${random}`) !== checksum) return null;
  return { env, random };
}

/** Every well-formed key with a right checksum in `text`, with its offset. */
export function findApiKeys(text: string): { readonly key: string; readonly index: number }[] {
  const found: { key: string; index: number }[] = [];
  for (const match of text.matchAll(API_KEY_PATTERN)) {
    if (parseApiKey(match[0])) found.push({ key: match[0], index: match.index });
  }
  return found;
}
