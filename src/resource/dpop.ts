import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import type { ReplayCache } from './replay.ts';

/** RFC 9449 §4.3: the checks a resource server makes of a DPoP proof presented with a bound token. */
export interface ProofInput {
  readonly proof: string | undefined;
  readonly method: string;
  /** The request URL as the client addressed it. */
  readonly url: string;
  readonly accessToken: string;
  /** `cnf.jkt` of the access token. */
  readonly jkt: string;
}

export interface ProofOptions {
  readonly algorithms: readonly string[];
  readonly maxAgeS: number;
  readonly clockToleranceS: number;
  readonly replay: ReplayCache;
  readonly now: number;
}

/** `null` when the proof is good; otherwise why not, for `error_description`. */
export async function checkDpopProof(input: ProofInput, options: ProofOptions): Promise<string | null> {
  if (!input.proof) return 'DPoP proof missing';
  let header;
  try {
    header = decodeProtectedHeader(input.proof);
  } catch {
    return 'DPoP proof is not a JWT';
  }
  if (header.typ !== 'dpop+jwt') return 'DPoP proof typ must be dpop+jwt';
  // The header is attacker-controlled JSON: `jwk` must be an object before anything looks inside it.
  if (typeof header.jwk !== 'object' || header.jwk === null || Array.isArray(header.jwk) || 'd' in header.jwk) return 'DPoP proof must carry a public jwk';
  let payload;
  try {
    ({ payload } = await jwtVerify(input.proof, EmbeddedJWK, { algorithms: [...options.algorithms], typ: 'dpop+jwt' }));
  } catch {
    return 'DPoP proof signature or algorithm is invalid';
  }
  if (payload.htm !== input.method) return 'DPoP proof htm does not match the request method';
  if (typeof payload.htu !== 'string' || stripUrl(payload.htu) !== stripUrl(input.url)) return 'DPoP proof htu does not match the request URL';
  const nowS = options.now / 1000;
  if (typeof payload.iat !== 'number' || Math.abs(nowS - payload.iat) > options.maxAgeS + options.clockToleranceS) return 'DPoP proof iat is outside the accepted window';
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) return 'DPoP proof jti missing';
  const ath = createHash('sha256').update(input.accessToken).digest('base64url');
  if (payload.ath !== ath) return 'DPoP proof ath does not match the access token';
  if ((await calculateJwkThumbprint(header.jwk as JWK)) !== input.jkt) return 'DPoP proof key is not the one the access token is bound to';
  // Checked last so a bad proof cannot spend someone's jti.
  const expiresAt = (payload.iat + options.maxAgeS + options.clockToleranceS) * 1000;
  if (!(await options.replay.firstUse(`${input.jkt}:${payload.jti}`, expiresAt, options.now))) return 'DPoP proof jti was already used';
  return null;
}

/** §4.3 item 9: compare without query and fragment; scheme and host are case-insensitive (URL normalises them). */
function stripUrl(value: string): string {
  try {
    const url = new URL(value);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '';
  }
}
