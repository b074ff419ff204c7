import { describe, expect, it } from 'vitest';
import { redactUrl } from './app.ts';

describe('redactUrl', () => {
  it.each([
    ['/enrol/abc.def', '/enrol/[redacted]'],
    ['/interaction/uid123/passkey', '/interaction/[redacted]/passkey'],
    ['/oidc/auth?client_id=x&code_challenge=y', '/oidc/auth?[redacted]'],
    ['/oidc/cb?code=secret', '/oidc/cb?[redacted]'],
    ['/login', '/login'],
  ])('%s → %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });
});
