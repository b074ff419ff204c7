import { readUserAgent } from '../../core/userAgent.ts';

/**
 * How the pages say what a session holds, in words a person reads: the sign-in's methods (RFC 8176
 * `amr` values, which the API and tokens keep as codes) and the browser a session came from.
 */

/** A sentence fragment for a session's `amr`: "a passkey on this device, unlocked with your PIN or biometric". */
export function describeAmr(amr: readonly string[]): string {
  const has = (value: string) => amr.includes(value);
  if (has('pop')) {
    const kind = has('hwk') ? 'a device-bound passkey with a verified maker' : has('swk') ? 'a synced passkey' : 'a passkey';
    return has('mfa') ? `${kind}, unlocked with your PIN or biometric` : `${kind}, without a PIN or biometric check`;
  }
  if (has('sms')) return 'a code sent by text message';
  if (has('otp')) return 'a one-time code';
  return amr.length === 0 ? 'an unknown method' : 'another method';
}

/**
 * "Chrome on Linux" from a User-Agent header; "Unknown browser" when nothing is recognised. Never
 * cut mid-word: the raw header goes in a title attribute for whoever needs it.
 */
export function describeUserAgent(userAgent: string): string {
  const { browser, system } = readUserAgent(userAgent);
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  if (system) return `A browser on ${system}`;
  return 'Unknown browser';
}

/** Where a sign-in came from, as the city database placed it: "London, GB"; "an unknown place" without one. */
export function describePlace(place: { readonly country: string | null; readonly city: string | null } | null | undefined): string {
  if (!place || (!place.country && !place.city)) return 'an unknown place';
  return [place.city, place.country].filter(Boolean).join(', ');
}

const METHOD_WORDS: Readonly<Record<string, string>> = {
  passkey: 'passkey',
  enrolment: 'first passkey (enrolment)',
  recovery_passkey: 'passkey added in a recovery',
  migration_passkey: 'first passkey (move from the old system)',
  totp: 'authenticator app code',
  sms_code: 'text-message code',
  email_code: 'email code',
  recovery_code: 'recovery code',
  migration_password: 'old password',
};

/** A sign-in method code (`sms_code`) in words. */
export function describeMethod(method: unknown): string {
  return typeof method === 'string' ? (METHOD_WORDS[method] ?? method.replaceAll('_', ' ')) : 'unknown method';
}
