/**
 * `WWW-Authenticate` challenges of a resource server: RFC 6750 §3 (Bearer), RFC 9449 §7.1 (DPoP)
 * and RFC 9470 §3 (step-up: `insufficient_user_authentication` with `acr_values` and `max_age`).
 */
export type ResourceErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'insufficient_user_authentication' | 'invalid_dpop_proof';

export interface Challenge {
  readonly scheme: 'Bearer' | 'DPoP';
  /** Absent when the request carried no token at all (RFC 6750 §3.1: then no error code). */
  readonly error?: ResourceErrorCode;
  readonly description?: string;
  /** RFC 9470 §3: the levels that would do, most preferred first. */
  readonly acrValues?: readonly string[];
  /** RFC 9470 §3: seconds since authentication the resource accepts. */
  readonly maxAge?: number;
  readonly scope?: string;
  /** RFC 9449 §7.1: DPoP signing algorithms the resource accepts. */
  readonly algs?: readonly string[];
  readonly realm?: string;
}

/** auth-param values as quoted-strings (RFC 9110 §11.2); a description never carries `"` or `\`. */
const quote = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

export function challengeHeader(c: Challenge): string {
  const params: string[] = [];
  if (c.realm) params.push(`realm=${quote(c.realm)}`);
  if (c.error) params.push(`error=${quote(c.error)}`);
  if (c.description) params.push(`error_description=${quote(c.description)}`);
  if (c.acrValues?.length) params.push(`acr_values=${quote(c.acrValues.join(' '))}`);
  if (c.maxAge !== undefined) params.push(`max_age=${quote(String(c.maxAge))}`);
  if (c.scope) params.push(`scope=${quote(c.scope)}`);
  if (c.algs?.length) params.push(`algs=${quote(c.algs.join(' '))}`);
  return params.length ? `${c.scheme} ${params.join(', ')}` : c.scheme;
}

/** The HTTP status for each refusal (RFC 6750 §3.1, RFC 9470 §3). */
export function challengeStatus(error: ResourceErrorCode | undefined): 400 | 401 | 403 {
  if (error === 'invalid_request') return 400;
  if (error === 'insufficient_scope') return 403;
  return 401;
}
