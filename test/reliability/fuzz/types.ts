/**
 * The shape of the fuzz table (table.ts): a row is an endpoint with a generator of "recipes" (plain,
 * printable values fast-check can shrink) and a function that turns a recipe into a request, with
 * whatever live state it needs (a fresh challenge, a session cookie) from the `FuzzContext`.
 */
import type fc from 'fast-check';
import type { TestApp } from '../../helpers/app.ts';
import type { SoftAuthenticator } from '../../helpers/softAuthenticator.ts';
import type { OidcFuzzState } from './oidc.ts';

/** One request, as `app.inject` (in-process) or fetch (against a real process) sends it. */
export interface FuzzRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT' | 'HEAD' | 'OPTIONS';
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly payload?: string | Buffer;
}

/** Live state the recipes draw on; refreshed as the fuzzing uses it up. */
export interface FuzzContext {
  readonly t: TestApp;
  /** A fresh session cookie of an enrolled account (`name=value`). */
  cookie(): Promise<string>;
  /** An unused enrolment token. */
  readonly enrolmentToken: string;
  /** A registration challenge just issued for an invited account, written straight to the store. */
  registrationChallenge(): Promise<{ challenge: string; userHandle: string }>;
  /** An authentication challenge just issued. */
  authenticationChallenge(): Promise<string>;
  /** An enrolled authenticator whose passkey is active (a new one once fuzzing flags the old). */
  signer(): Promise<SoftAuthenticator>;
  /** Called with every answer, so the context can replace what a case used up. */
  observe(answer: { status: number; error?: string }): void;
  /** A registered private_key_jwt client and the provider's endpoints (made on first use). */
  oidc(): Promise<OidcFuzzState>;
}

export interface FuzzEndpoint<R = any> {
  readonly name: string;
  /** Cases per run (multiplied by KEYBOUND_FUZZ_SCALE). */
  readonly runs: number;
  readonly recipes: fc.Arbitrary<R>;
  build(recipe: R, ctx: FuzzContext): Promise<FuzzRequest> | FuzzRequest;
}
