/**
 * The one-time-code endpoints in the fuzz table: code sign-in (start, verify), binding an
 * authenticator app, SMS and email codes, recovery codes, self-service recovery (start, verify), and
 * the list and removal of factors.
 */
import fc from 'fast-check';
import { nastyString } from './arbitraries.ts';
import { bodilessEndpoint, jsonEndpoint } from './requests.ts';
import type { FuzzEndpoint } from './types.ts';

/** Codes of every wrong shape: too short, too long, letters, spaces, unicode digits. */
export const codeValue: fc.Arbitrary<string> = fc.oneof(fc.stringMatching(/^[0-9]{6}$/), fc.stringMatching(/^[0-9 -]{1,20}$/), fc.constantFrom('', '٠١٢٣٤٥', '１２３４５６', '000000', '12345678901', 'ABCD-EFGH-JKLM-NPQR'), nastyString.filter((s) => s.length < 100));

export const CODE_ENDPOINTS: readonly FuzzEndpoint[] = [
  jsonEndpoint('POST', '/api/v1/codes/sign-in/start', () => ({ username: 'fuzz-signer', factor: 'totp' }), { runs: 1000 }),
  jsonEndpoint('POST', '/api/v1/codes/sign-in/verify', () => ({ attemptId: 'AAAAAAAAAAAAAAAAAAAAAA', code: fc.sample(codeValue, 1)[0] }), { runs: 1000 }),
  jsonEndpoint('POST', '/api/v1/totp', () => ({}), { cookie: true, runs: 1000 }),
  jsonEndpoint('POST', '/api/v1/totp/confirm', () => ({ code: fc.sample(codeValue, 1)[0] }), { cookie: true, runs: 1000 }),
  jsonEndpoint('POST', '/api/v1/recovery-codes', () => ({}), { cookie: true, runs: 1000 }),
  jsonEndpoint('POST', '/api/v1/sms', () => ({ phone: '+447700900123' }), { cookie: true, runs: 1000 }),
  jsonEndpoint('POST', '/api/v1/sms/confirm', () => ({ attemptId: 'AAAAAAAAAAAAAAAAAAAAAA', code: '123456' }), { cookie: true, runs: 1000 }),
  jsonEndpoint('POST', '/api/v1/email-codes', () => ({}), { cookie: true, runs: 1000 }),
  jsonEndpoint('POST', '/api/v1/email-codes/confirm', () => ({ attemptId: 'AAAAAAAAAAAAAAAAAAAAAA', code: '123456' }), { cookie: true, runs: 1000 }),
  jsonEndpoint('POST', '/api/v1/recovery/start', () => ({ username: 'fuzz-signer', factor: 'recovery' }), { runs: 1000 }),
  jsonEndpoint('POST', '/api/v1/recovery/verify', () => ({ attemptId: 'AAAAAAAAAAAAAAAAAAAAAA', code: fc.sample(codeValue, 1)[0], proof: { attemptId: 'BBBBBBBBBBBBBBBBBBBBBB', code: '123456' } }), { runs: 1000 }),
  bodilessEndpoint('GET', '/api/v1/factors', { runs: 1000 }),
  bodilessEndpoint('DELETE', '/api/v1/factors/:id', { runs: 1000 }),
];
