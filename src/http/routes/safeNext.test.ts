import { describe, expect, it } from 'vitest';
import { safeNext } from './pages.ts';

/**
 * OWASP ASVS 5.0 3.7.2: after sign-in the browser goes to `next` (client.ts `location.assign`), so
 * `next` may only name a path on this origin. Each value is also resolved the way a browser would,
 * against the origin, to show where it would really lead.
 */
const ORIGIN = 'https://id.example.com';
const landsOn = (next: string) => new URL(next, ORIGIN).origin;

describe('safeNext', () => {
  it.each([
    ['absolute https URL', 'https://evil.example/account'],
    ['absolute http URL', 'http://evil.example'],
    ['protocol-relative', '//evil.example/account'],
    ['protocol-relative, three slashes', '///evil.example'],
    ['backslash after the slash (browsers read it as /)', '/\\evil.example'],
    ['two backslashes', '\\\\evil.example'],
    ['slash and backslash', '\\/evil.example'],
    ['javascript: URL', 'javascript:alert(document.cookie)'],
    ['javascript: URL in capitals', 'JAVASCRIPT:alert(1)'],
    ['data: URL', 'data:text/html,<script>alert(1)</script>'],
    ['tab inside (browsers strip it: //evil)', '/\t/evil.example'],
    ['newline inside (browsers strip it: //evil)', '/\n/evil.example'],
    ['space before the second slash', '/ /evil.example'],
    ['leading space', ' //evil.example'],
    ['percent-encoded slashes at the start', '%2F%2Fevil.example'],
    ['percent-encoded scheme', 'https%3A%2F%2Fevil.example'],
    ['relative path without a slash', 'evil.example'],
    ['empty', ''],
    ['non-ASCII lookalike slash', '/\uff0fevil.example'],
    ['too long', `/${'a'.repeat(600)}`],
  ])('ASVS 3.7.2: refuses %s and falls back to /account', (_what, value) => {
    expect(safeNext(value)).toBe('/account');
  });

  it.each([[undefined], [null], [42], [['/account']], [{ next: '/account' }]])('ASVS 3.7.2: refuses a value that is not a string (%j)', (value) => {
    expect(safeNext(value)).toBe('/account');
  });

  it.each([
    ['/account'],
    ['/account?changed=1'],
    ['/oidc/auth/abc?x=1#frag'],
    ['/interaction/uid-123'],
    // Encoded slashes after the first one stay a path on this origin: a browser does not decode them.
    ['/%2F%2Fevil.example'],
    ['/%5Cevil.example'],
    ['/a/b\\c'],
  ])('ASVS 3.7.2: keeps the same-origin path %s', (value) => {
    expect(safeNext(value)).toBe(value);
    expect(landsOn(value)).toBe(ORIGIN);
  });

  it('ASVS 3.7.2: whatever it is given, where it leads is this origin', () => {
    const hostile = ['//evil', '/\\evil', 'https://evil', 'javascript:x', '/\t/evil', '\\\\evil', '/%2F/evil', '/..//evil', '/.//evil', '/./\\evil'];
    for (const value of hostile) expect(landsOn(safeNext(value)), value).toBe(ORIGIN);
  });
});
