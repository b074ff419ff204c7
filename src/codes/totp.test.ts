import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode } from './base32.ts';
import { normaliseNumericCode } from './normalise.ts';
import { otpauthUri, timeStep, totp, totpAt, verifyTotp, type TotpParams } from './totp.ts';

type Mode = 'SHA1' | 'SHA256' | 'SHA512';
const vectors = JSON.parse(readFileSync(new URL('../../test/fixtures/otp/rfc6238-totp-appendix-b.json', import.meta.url), 'utf8')) as {
  source: { document: string };
  parameters: { X_step_seconds: number };
  secrets: Record<Mode, { ascii: string; base32: string }>;
  cases: { unix_time: number; T_hex: string; mode: Mode; totp_8_digits: string; totp_6_digits_same_step: string }[];
};
const secretOf = (mode: Mode) => new TextEncoder().encode(vectors.secrets[mode].ascii);

describe(`TOTP: ${vectors.source.document}`, () => {
  it.each(vectors.cases)('$mode at $unix_time s gives $totp_8_digits', (c) => {
    const params: TotpParams = { algorithm: c.mode, digits: 8, period: vectors.parameters.X_step_seconds };
    const nowMs = c.unix_time * 1000; // the clock is passed in
    expect(timeStep(nowMs, 30)).toBe(Number.parseInt(c.T_hex, 16));
    expect(totp(secretOf(c.mode), nowMs, params)).toBe(c.totp_8_digits);
    expect(totp(secretOf(c.mode), nowMs, { ...params, digits: 6 })).toBe(c.totp_6_digits_same_step);
    expect(verifyTotp(secretOf(c.mode), c.totp_8_digits, { nowMs, params, window: 0, lastStep: null })).toBe(timeStep(nowMs, 30));
  });

  it('decodes the published base32 secrets', () => {
    for (const mode of ['SHA1', 'SHA256', 'SHA512'] as const) {
      expect(base32Decode(vectors.secrets[mode].base32)).toEqual(secretOf(mode));
      expect(base32Encode(secretOf(mode))).toBe(vectors.secrets[mode].base32.replace(/=+$/, ''));
    }
  });
});

describe('TOTP window and replay (RFC 6238 §5.2)', () => {
  const secret = secretOf('SHA1');
  const params: TotpParams = { algorithm: 'SHA1', digits: 6, period: 30 };
  const now = 1_111_111_109_000;
  const step = timeStep(now, 30);
  const at = (offset: number) => totpAt(secret, step + offset, params);

  it('ASVS 6.5.5: accepts the current step and the previous one only, never a later one', () => {
    for (const offset of [-1, 0]) expect(verifyTotp(secret, at(offset), { nowMs: now, params, window: 1, lastStep: null })).toBe(step + offset);
    for (const offset of [-2, 1, 2]) expect(verifyTotp(secret, at(offset), { nowMs: now, params, window: 1, lastStep: null })).toBeNull();
    expect(verifyTotp(secret, at(-1), { nowMs: now, params, window: 0, lastStep: null })).toBeNull();
    expect(verifyTotp(secret, at(-2), { nowMs: now, params, window: 2, lastStep: null })).toBe(step - 2);
  });

  it('never accepts the last used step, nor an earlier one', () => {
    expect(verifyTotp(secret, at(-1), { nowMs: now, params, window: 1, lastStep: step - 1 })).toBeNull();
    expect(verifyTotp(secret, at(-1), { nowMs: now, params, window: 1, lastStep: step })).toBeNull();
    expect(verifyTotp(secret, at(0), { nowMs: now, params, window: 1, lastStep: step - 1 })).toBe(step);
  });

  it('refuses codes of the wrong length', () => {
    expect(verifyTotp(secret, `${at(0)}0`, { nowMs: now, params, window: 1, lastStep: null })).toBeNull();
  });

  it('normalises spaces and refuses anything but ASCII digits', () => {
    expect(normaliseNumericCode(' 123 456 ', 6)).toBe('123456');
    expect(normaliseNumericCode('123\u00a0456', 6)).toBe('123456');
    for (const bad of ['12345a', '123-456', '１２３４５６', '12345', '1234567', '', '+12345']) expect(normaliseNumericCode(bad, 6), bad).toBeNull();
  });
});

describe('otpauth URI', () => {
  it('carries the secret, issuer and parameters apps read', () => {
    const uri = otpauthUri({ secret: secretOf('SHA1'), issuer: 'Key bound', accountName: 'alice@example.com', params: { algorithm: 'SHA1', digits: 6, period: 30 } });
    expect(uri).toBe('otpauth://totp/Key%20bound:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Key%20bound&algorithm=SHA1&digits=6&period=30');
  });
});
