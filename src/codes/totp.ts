import { timingSafeEqual } from 'node:crypto';
import { base32Encode } from './base32.ts';
import { hotp, type OtpAlgorithm } from './hotp.ts';

/** A TOTP authenticator's parameters, stored with it so a later change of defaults cannot break it. */
export interface TotpParams {
  readonly algorithm: OtpAlgorithm;
  readonly digits: 6 | 8;
  /** Time step X in seconds (RFC 6238 §4.1; 30 recommended, §5.2). */
  readonly period: number;
}

/** T = floor((Unix time - T0) / X) with T0 = 0 (RFC 6238 §4.2). `nowMs` is passed in, never read. */
export function timeStep(nowMs: number, period: number): number {
  return Math.floor(nowMs / 1000 / period);
}

/** The code for one time step. */
export function totpAt(secret: Uint8Array, step: number, params: TotpParams): string {
  return hotp(secret, BigInt(step), { digits: params.digits, algorithm: params.algorithm });
}

/** The code for the step that contains `nowMs` (what an authenticator app shows at that moment). */
export function totp(secret: Uint8Array, nowMs: number, params: TotpParams): string {
  return totpAt(secret, timeStep(nowMs, params.period), params);
}

/**
 * Finds the time step a code belongs to: the current step or one of the `window` steps before it
 * (RFC 6238 §5.2: "at most one time step is allowed as the network delay" is the recommended
 * window). No later step is accepted: OWASP ASVS 5.0 6.5.5 wants a time-based code to live a short,
 * defined time, and a code that only becomes valid later would live longer. Steps at or
 * before `lastStep` are never accepted: "the verifier MUST NOT accept the second attempt of the same
 * OTP after the successful validation has been issued for the first OTP" (§5.2), and accepting an
 * older step after a newer one would let an eavesdropped code be replayed. The caller stores the
 * returned step with a compare-and-set, so two racing requests cannot both use it.
 *
 * Every candidate is computed and compared in constant time, so timing does not say which one matched.
 * @returns the matched step, or `null`.
 */
export function verifyTotp(
  secret: Uint8Array,
  code: string,
  input: { nowMs: number; params: TotpParams; window: number; lastStep: number | null },
): number | null {
  const { params } = input;
  if (code.length !== params.digits) return null;
  const current = timeStep(input.nowMs, params.period);
  const presented = Buffer.from(code);
  let matched: number | null = null;
  for (let step = current - input.window; step <= current; step++) {
    const equal = timingSafeEqual(presented, Buffer.from(totpAt(secret, step, params)));
    if (equal && matched === null && (input.lastStep === null || step > input.lastStep)) matched = step;
  }
  return matched;
}

/**
 * The provisioning URI authenticator apps read from a QR code (Google Authenticator "Key Uri
 * Format"): `otpauth://totp/Issuer:account?secret=...&issuer=...&algorithm=...&digits=...&period=...`.
 */
export function otpauthUri(input: { secret: Uint8Array; issuer: string; accountName: string; params: TotpParams }): string {
  const label = `${encodeURIComponent(input.issuer)}:${encodeURIComponent(input.accountName)}`;
  const query = new URLSearchParams({
    secret: base32Encode(input.secret),
    issuer: input.issuer,
    algorithm: input.params.algorithm,
    digits: String(input.params.digits),
    period: String(input.params.period),
  });
  return `otpauth://totp/${label}?${query.toString().replace(/\+/g, '%20')}`;
}
