import { createHmac } from 'node:crypto';

/** The HMAC hash functions RFC 6238 §1.2 allows for TOTP (HOTP itself is HMAC-SHA-1, RFC 4226 §5.2). */
export type OtpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

const NODE_HASH: Record<OtpAlgorithm, string> = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };

/**
 * HOTP(K, C) = Truncate(HMAC(K, C)) mod 10^Digits (RFC 4226 §5.3). The counter is an 8-byte
 * big-endian value (§5.1), taken as a bigint so counters past 2^32 (TOTP after 2106, or RFC 6238's
 * year-2603 vector) are exact.
 *
 * @example hotp(new TextEncoder().encode('12345678901234567890'), 0n) // '755224' (RFC 4226 Appendix D)
 */
export function hotp(secret: Uint8Array, counter: bigint, options: { digits?: number; algorithm?: OtpAlgorithm } = {}): string {
  const digits = options.digits ?? 6;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt.asUintN(64, counter));
  const mac = createHmac(NODE_HASH[options.algorithm ?? 'SHA1'], secret).update(message).digest();
  return truncate(mac, digits);
}

/**
 * Dynamic truncation (RFC 4226 §5.3): the low 4 bits of the last byte pick an offset; the 31 bits
 * from there (top bit masked, §5.3 "to avoid confusion about signed vs. unsigned") are the value.
 */
export function truncate(mac: Uint8Array, digits: number): string {
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, '0');
}
