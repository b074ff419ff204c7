import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { acrSatisfies, isAcr } from '../core/assurance/level.ts';
import { challengeHeader, challengeStatus, type ResourceErrorCode } from './challenge.ts';
import { apiKeyChecker, looksLikeApiKey, type ApiKeyClaims, type ApiKeyOptions } from './apiKeys.ts';
import { checkDpopProof } from './dpop.ts';
import { MemoryReplayCache, type ReplayCache } from './replay.ts';

export interface VerifierOptions {
  /** The Keybound issuer, e.g. `https://id.example.com/oidc`. */
  readonly issuer: string;
  /** This resource server's indicator (RFC 8707), the `aud` its tokens must carry. */
  readonly audience: string;
  /** Keys to verify with; by default the issuer's JWKS (`${issuer}/jwks`), fetched and cached by jose. */
  readonly jwks?: JWTVerifyGetKey;
  /** Accepted token signature algorithms (never `none`, never HMAC). */
  readonly algorithms?: readonly string[];
  readonly clockToleranceS?: number;
  /** How old a DPoP proof may be, in seconds (default 60). */
  readonly dpopMaxAgeS?: number;
  /** Where DPoP proof `jti`s are remembered (default: in memory, per process). */
  readonly replay?: ReplayCache;
  /** Milliseconds since the epoch; for tests. */
  readonly now?: () => number;
  /**
   * Accept Keybound API keys (`Authorization: Bearer kb_...`) too, checked by RFC 7662 introspection
   * as this resource server's client (apiKeys.ts). Without it, an API key is refused.
   */
  readonly apiKeys?: ApiKeyOptions;
}

/** What a route requires of the person behind the token (RFC 9470). */
export interface Requirement {
  /** The weakest acceptable `acr` (Keybound's levels are ordered: a stronger one also does). */
  readonly acr?: string;
  /** Longest time since the person authenticated, in seconds. */
  readonly maxAgeS?: number;
  /** Scopes the token must carry (all of them). */
  readonly scopes?: readonly string[];
}

export interface RequestLike {
  readonly method: string;
  /** The URL as the client addressed it (scheme, host, path); compared with the DPoP proof's `htu`. */
  readonly url: string;
  readonly authorization?: string | undefined;
  readonly dpop?: string | string[] | undefined;
}

export interface AccessTokenClaims extends JWTPayload {
  readonly sub: string;
  readonly client_id: string;
  readonly scope?: string;
  readonly acr?: string;
  readonly amr?: string[];
  readonly auth_time?: number;
  readonly cnf?: { readonly jkt?: string };
}

export type Verification =
  | {
      readonly ok: true;
      /** What was presented: a JWT access token, or an API key (then `token.sub` is the key's owner, `token.client_id` the key's id). */
      readonly kind: 'access_token' | 'api_key';
      readonly token: AccessTokenClaims;
      /** The introspection answer, for an API key. */
      readonly apiKey?: ApiKeyClaims;
    }
  | { readonly ok: false; readonly status: 400 | 401 | 403; readonly error: ResourceErrorCode | null; readonly description: string; readonly wwwAuthenticate: string };

const DEFAULT_ALGS = ['ES256', 'EdDSA', 'Ed25519', 'PS256'] as const;
const DPOP_ALGS = ['ES256', 'EdDSA', 'Ed25519', 'PS256'] as const;

/**
 * Verifies access tokens from Keybound: RFC 9068 JWTs (`typ: at+jwt`) signed by the issuer's keys,
 * for this audience, unexpired; DPoP-bound ones with a valid proof (RFC 9449 §7); then the route's
 * requirement, answering RFC 9470's `insufficient_user_authentication` challenge when the sign-in
 * behind the token is too weak or too old.
 *
 * @example
 * const verifier = createVerifier({ issuer: 'https://id.example.com/oidc', audience: 'https://api.example.com/' });
 * const result = await verifier.verify({ method: 'POST', url, authorization, dpop }, { acr: 'urn:keybound:aal3', maxAgeS: 300 });
 * if (!result.ok) return respond(result.status, { 'www-authenticate': result.wwwAuthenticate });
 */
export function createVerifier(options: VerifierOptions) {
  const jwks = options.jwks ?? createRemoteJWKSet(new URL(`${options.issuer.replace(/\/$/, '')}/jwks`));
  const algorithms = [...(options.algorithms ?? DEFAULT_ALGS)].filter((a) => a !== 'none' && !a.startsWith('HS'));
  const tolerance = options.clockToleranceS ?? 5;
  const replay = options.replay ?? new MemoryReplayCache();
  const now = options.now ?? Date.now;
  const checkApiKey = options.apiKeys ? apiKeyChecker(options.issuer, options.apiKeys, now) : null;

  async function verify(request: RequestLike, requirement: Requirement = {}): Promise<Verification> {
    const header = request.authorization ?? '';
    const match = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
    const scheme: 'Bearer' | 'DPoP' = match?.[1]?.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    const refuse = (error: ResourceErrorCode | null, description: string, extra: { acrValues?: string[]; maxAge?: number; scope?: string } = {}): Verification => ({
      ok: false,
      status: error ? challengeStatus(error) : 401,
      error,
      description,
      wwwAuthenticate: challengeHeader({ scheme, ...(error ? { error, description } : {}), ...extra, ...(scheme === 'DPoP' ? { algs: DPOP_ALGS } : {}) }),
    });
    if (!header) return refuse(null, 'no access token');
    if (!match) return refuse('invalid_request', 'the Authorization header is not "Bearer <token>" or "DPoP <token>"');
    if (Array.isArray(request.dpop)) return refuse('invalid_dpop_proof', 'more than one DPoP header');
    const token = match[2]!;
    if (looksLikeApiKey(token)) {
      if (scheme !== 'Bearer') return refuse('invalid_token', 'present an API key with the Bearer scheme, not DPoP');
      if (!checkApiKey) return refuse('invalid_token', 'API keys are not accepted here');
      const checked = await checkApiKey(token);
      if (!checked.ok) return refuse('invalid_token', checked.description);
      // A key carries no sign-in: a route that asks for a level or a recent sign-in needs a person's token.
      if (requirement.acr || requirement.maxAgeS !== undefined) {
        return refuse('insufficient_user_authentication', 'an API key carries no sign-in; this needs a person\'s access token', { ...(requirement.acr ? { acrValues: [requirement.acr] } : {}), ...(requirement.maxAgeS !== undefined ? { maxAge: requirement.maxAgeS } : {}) });
      }
      const granted = new Set(checked.key.scope.split(' '));
      if ((requirement.scopes ?? []).some((s) => !granted.has(s))) return refuse('insufficient_scope', 'the API key lacks a required scope', { scope: requirement.scopes!.join(' ') });
      const key = checked.key;
      const claims: AccessTokenClaims = { sub: key.sub, client_id: key.keybound_api_key_id, scope: key.scope, exp: key.exp, ...(key.iat !== undefined ? { iat: key.iat } : {}), ...(key.iss !== undefined ? { iss: key.iss } : {}) };
      return { ok: true, kind: 'api_key', token: claims, apiKey: key };
    }
    let claims: AccessTokenClaims;
    try {
      const verified = await jwtVerify<AccessTokenClaims>(token, jwks, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms,
        typ: 'at+jwt', // RFC 9068 §4: refuse ID tokens and other JWTs presented as access tokens.
        clockTolerance: tolerance,
        currentDate: new Date(now()),
        requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'],
      });
      claims = verified.payload;
    } catch (error) {
      return refuse('invalid_token', describeJoseError(error));
    }
    // A signed token is still input: claims this helper reads must have the types RFC 9068 gives them.
    const claimTypes: [unknown, string][] = [
      [claims.scope, 'string'],
      [claims.acr, 'string'],
      [claims.auth_time, 'number'],
    ];
    if (claimTypes.some(([value, type]) => value !== undefined && typeof value !== type) || (claims.cnf !== undefined && (typeof claims.cnf !== 'object' || claims.cnf === null))) {
      return refuse('invalid_token', 'the access token carries a claim of the wrong type');
    }

    const jkt = claims.cnf?.jkt;
    if (jkt) {
      // RFC 9449 §7.2: a DPoP-bound token presented as a bearer token is refused.
      if (scheme !== 'DPoP') return refuse('invalid_token', 'the access token is DPoP-bound; present it with the DPoP scheme and a proof');
      const problem = await checkDpopProof(
        { proof: request.dpop, method: request.method.toUpperCase(), url: request.url, accessToken: token, jkt },
        { algorithms: DPOP_ALGS, maxAgeS: options.dpopMaxAgeS ?? 60, clockToleranceS: tolerance, replay, now: now() },
      );
      if (problem) return refuse('invalid_dpop_proof', problem);
    } else if (scheme === 'DPoP') {
      return refuse('invalid_token', 'the access token is not DPoP-bound; present it with the Bearer scheme');
    }

    const stepUp = { ...(requirement.acr ? { acrValues: [requirement.acr] } : {}), ...(requirement.maxAgeS !== undefined ? { maxAge: requirement.maxAgeS } : {}) };
    if (requirement.acr && !(claims.acr && isAcr(claims.acr) && isAcr(requirement.acr) ? acrSatisfies(claims.acr, requirement.acr) : claims.acr === requirement.acr)) {
      return refuse('insufficient_user_authentication', 'a stronger authentication is required', stepUp);
    }
    if (requirement.maxAgeS !== undefined && (typeof claims.auth_time !== 'number' || now() / 1000 - claims.auth_time > requirement.maxAgeS)) {
      return refuse('insufficient_user_authentication', 'a more recent authentication is required', stepUp);
    }
    const granted = new Set((claims.scope ?? '').split(' '));
    const missing = (requirement.scopes ?? []).filter((s) => !granted.has(s));
    if (missing.length > 0) return refuse('insufficient_scope', 'the access token lacks a required scope', { scope: requirement.scopes!.join(' ') });
    return { ok: true, kind: 'access_token', token: claims };
  }

  return { verify };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the access token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the access token ${error.claim} claim is not valid here`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the access token signature is invalid';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the access token algorithm is not accepted';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the access token was not signed by a key of the issuer';
  return 'the access token is malformed or invalid';
}
