/**
 * What one virtual user does against each server, over the server's own JSON API, as a browser
 * with a passkey would: fetch options, sign the challenge, post the assertion, keep the session
 * cookie. Each server gets the same authenticators and the same kind of requests.
 */
import type { KeyObject } from 'node:crypto';
import { assertion, type BenchCredential } from './authenticator.ts';
import { cookieFrom, type HttpClient, type HttpResponse } from './http.ts';

export type Target = 'keybound' | 'better-auth';

export interface BenchAccount {
  readonly credential: BenchCredential;
  readonly key: KeyObject;
}

export class FlowError extends Error {
  constructor(
    readonly step: string,
    readonly response: HttpResponse,
  ) {
    super(`${step}: HTTP ${response.status} ${response.body.slice(0, 300)}`);
  }
}

export interface Flow {
  /** A full passkey sign-in; returns the session cookie (`name=value`). */
  signIn(http: HttpClient, account: BenchAccount): Promise<string>;
  /** One authenticated "who am I" request. */
  sessionCheck(http: HttpClient, cookie: string): Promise<void>;
}

export interface FlowContext {
  readonly origin: string;
  readonly rpId: string;
  /** Next sign count; grows across every account, so each account's counter always grows too. */
  readonly nextSignCount: () => number;
}

const expect = (step: string, response: HttpResponse, status = 200): HttpResponse => {
  if (response.status !== status) throw new FlowError(step, response);
  return response;
};

export function keyboundFlow(ctx: FlowContext): Flow {
  const headers = { origin: ctx.origin };
  return {
    async signIn(http, account) {
      const options = expect('options', await http.send('POST', '/api/v1/passkeys/authentication/options', headers, '{}'));
      const { challenge } = JSON.parse(options.body) as { challenge: string };
      const response = assertion(account.credential, account.key, { challenge, origin: ctx.origin, rpId: ctx.rpId, signCount: ctx.nextSignCount() });
      const verified = expect('verify', await http.send('POST', '/api/v1/passkeys/authentication/verify', headers, JSON.stringify({ response })));
      const cookie = cookieFrom(verified, 'keybound_session');
      if (!cookie) throw new FlowError('verify (no session cookie)', verified);
      return cookie;
    },
    async sessionCheck(http, cookie) {
      expect('session', await http.send('GET', '/api/v1/session', { cookie }));
    },
  };
}

/**
 * A TOTP sign-in (Keybound's JSON API): start an attempt for the username, then send the code of
 * the authenticator app. `address` is the client address a proxy in front of Keybound reports
 * (X-Forwarded-For): people sign in from their own addresses, and Keybound's per-address code
 * delays would otherwise treat the load generator as one very busy guesser.
 */
export async function totpSignIn(http: HttpClient, ctx: FlowContext, input: { username: string; code: string; address: string }): Promise<string> {
  const headers = { origin: ctx.origin, 'x-forwarded-for': input.address };
  const started = expect('codes start', await http.send('POST', '/api/v1/codes/sign-in/start', headers, JSON.stringify({ username: input.username, factor: 'totp' })));
  const { attemptId } = JSON.parse(started.body) as { attemptId: string };
  const verified = expect('codes verify', await http.send('POST', '/api/v1/codes/sign-in/verify', headers, JSON.stringify({ attemptId, code: input.code })));
  const cookie = cookieFrom(verified, 'keybound_session');
  if (!cookie) throw new FlowError('codes verify (no session cookie)', verified);
  return cookie;
}

export function betterAuthFlow(ctx: FlowContext): Flow {
  return {
    async signIn(http, account) {
      const options = expect('options', await http.send('GET', '/api/auth/passkey/generate-authenticate-options', { origin: ctx.origin }));
      const { challenge } = JSON.parse(options.body) as { challenge: string };
      const challengeCookie = cookieFrom(options, 'better-auth.better-auth-passkey');
      if (!challengeCookie) throw new FlowError('options (no challenge cookie)', options);
      const response = assertion(account.credential, account.key, { challenge, origin: ctx.origin, rpId: ctx.rpId, signCount: ctx.nextSignCount() });
      const verified = expect(
        'verify',
        await http.send('POST', '/api/auth/passkey/verify-authentication', { origin: ctx.origin, cookie: challengeCookie }, JSON.stringify({ response })),
      );
      const cookie = cookieFrom(verified, 'better-auth.session_token');
      if (!cookie) throw new FlowError('verify (no session cookie)', verified);
      return cookie;
    },
    async sessionCheck(http, cookie) {
      const response = expect('session', await http.send('GET', '/api/auth/get-session', { cookie }));
      if (response.body === 'null') throw new FlowError('session (signed out)', response);
    },
  };
}

export function flowFor(target: Target, ctx: FlowContext): Flow {
  return target === 'keybound' ? keyboundFlow(ctx) : betterAuthFlow(ctx);
}
