import { describe, expect, it } from 'vitest';
import { describeAmr, describeUserAgent } from './words.ts';

describe('describeAmr', () => {
  it.each([
    [['pop', 'hwk', 'user', 'mfa'], 'a device-bound passkey with a verified maker, unlocked with your PIN or biometric'],
    [['pop', 'swk', 'user', 'mfa'], 'a synced passkey, unlocked with your PIN or biometric'],
    [['pop', 'user', 'mfa'], 'a passkey, unlocked with your PIN or biometric'],
    [['pop', 'user'], 'a passkey, without a PIN or biometric check'],
    [['sms', 'otp'], 'a code sent by text message'],
    [['otp'], 'a one-time code'],
    [[], 'an unknown method'],
  ])('%j reads "%s"', (amr, words) => {
    expect(describeAmr(amr)).toBe(words);
  });
});

describe('describeUserAgent', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36', 'Chrome on Linux'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36', 'Chrome (headless) on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', 'Edge on Windows'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1', 'Safari on iOS'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox on macOS'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'Chrome on Android'],
    ['curl/8.5.0', 'curl'],
    ['lightMyRequest', 'Unknown browser'],
    ['', 'Unknown browser'],
  ])('%s reads "%s"', (userAgent, words) => {
    expect(describeUserAgent(userAgent)).toBe(words);
  });
});
