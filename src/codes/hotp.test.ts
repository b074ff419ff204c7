import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hotp, truncate } from './hotp.ts';

const vectors = JSON.parse(readFileSync(new URL('../../test/fixtures/otp/rfc4226-hotp-appendix-d.json', import.meta.url), 'utf8')) as {
  source: { document: string };
  secret_ascii: string;
  cases: { count: number; hmac_sha1_hex: string; truncated_decimal: number; hotp_6_digits: string }[];
};
const secret = new TextEncoder().encode(vectors.secret_ascii);

describe(`HOTP: ${vectors.source.document}`, () => {
  it.each(vectors.cases)('counter $count gives $hotp_6_digits', (c) => {
    const mac = createHmac('sha1', secret).update(Buffer.from(c.count.toString(16).padStart(16, '0'), 'hex')).digest();
    expect(mac.toString('hex')).toBe(c.hmac_sha1_hex);
    expect(truncate(mac, 9)).toBe(String(c.truncated_decimal % 10 ** 9).padStart(9, '0'));
    expect(hotp(secret, BigInt(c.count))).toBe(c.hotp_6_digits);
  });

  it('keeps leading zeros', () => {
    // Counter 7 truncates to 82162583: six digits are "162583"; eight are "82162583".
    expect(hotp(secret, 7n, { digits: 8 })).toBe('82162583');
  });
});
