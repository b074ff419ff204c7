import { describe, expect, it } from 'vitest';
import { errorMessage } from '../../core/errors.ts';
import { ApiError, explain, waitInWords } from './messages.ts';

describe('page messages', () => {
  it('a throttled code sign-in says how long to wait (retry_after), rounded up', () => {
    const throttled = new ApiError('code_throttled', errorMessage('code_throttled'), 30);
    expect(explain(throttled)).toBe(`${errorMessage('code_throttled')} Try again in 30 seconds.`);
    expect(explain(new ApiError('code_send_limit', 'Too many codes sent.', 600))).toBe('Too many codes sent. Try again in 10 minutes.');
    expect(explain(new ApiError('code_invalid', 'That code is not right.'))).toBe('That code is not right.');
  });

  it.each([
    [0.2, '1 second'],
    [1, '1 second'],
    [45, '45 seconds'],
    [89, '89 seconds'],
    [90, '2 minutes'],
    [601, '11 minutes'],
  ])('%s s reads "%s"', (seconds, words) => {
    expect(waitInWords(seconds)).toBe(words);
  });

  it('a browser ceremony error in words', () => {
    expect(explain(Object.assign(new Error('x'), { name: 'NotAllowedError' }))).toMatch(/^The passkey prompt was closed/);
    expect(explain(Object.assign(new Error('x'), { name: 'InvalidStateError' }))).toBe('This authenticator is already registered to your account.');
  });
});
