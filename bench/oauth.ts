/**
 * The OAuth side of the load generator: client credentials with `private_key_jwt` (RFC 7523) and
 * optionally DPoP (RFC 9449), signed with node:crypto (compact JWS, ES256), one fresh `jti` per
 * assertion and per proof, as a well-behaved service would send them; or, for an agent, the same
 * request as an RFC 8693 token exchange of a person's access token (always with DPoP); or, for a
 * resource server, an RFC 7662 introspection of an API key, authenticated the same way.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { HttpClient } from './http.ts';
import { FlowError } from './flows.ts';
import type { ClientCredentialsParams, IntrospectionParams } from './protocol.ts';

const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function jws(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64json(header)}.${b64json(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/**
 * A P-256 key pair rebuilt from DER, not the KeyObjects `generateKeyPairSync` returns: on Node.js 20 a
 * garbage collection inside `export({ format: 'jwk' })` of those can deadlock the process (the
 * finished generation job's destructor takes the lock the export holds).
 */
function freshP256(): { privateKey: KeyObject; publicKey: KeyObject } {
  const der = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } });
  return { privateKey: createPrivateKey({ key: der.privateKey, format: 'der', type: 'pkcs8' }), publicKey: createPublicKey({ key: der.publicKey, format: 'der', type: 'spki' }) };
}

/** A client's ES256 key pair: the private JWK for the load generator, the public one for `keybound clients create --jwks`. */
export function clientKeyPair(): { privateJwk: Record<string, string>; publicJwk: Record<string, string> } {
  const { privateKey, publicKey } = freshP256();
  return { privateJwk: privateKey.export({ format: 'jwk' }) as Record<string, string>, publicJwk: { ...(publicKey.export({ format: 'jwk' }) as Record<string, string>), alg: 'ES256', use: 'sig' } };
}

/** The form fields of `private_key_jwt` client authentication (RFC 7523 §2.2), a fresh assertion each time. */
function clientAuthentication(issuer: string, clientId: string, key: KeyObject): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  return {
    client_id: clientId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: jws({ alg: 'ES256' }, { iss: clientId, sub: clientId, aud: issuer, jti: randomUUID(), iat: now, exp: now + 60 }, key),
  };
}

const FORM = 'application/x-www-form-urlencoded';

export interface TokenClient {
  /** One token request; resolves when a token came back. */
  token(http: HttpClient): Promise<void>;
}

export function tokenClient(baseUrl: string, params: ClientCredentialsParams): TokenClient {
  const issuer = `${baseUrl}/oidc`;
  const tokenEndpoint = `${issuer}/token`;
  const clientKey = createPrivateKey({ key: params.privateJwk, format: 'jwk' });
  // One DPoP key per token client (the load generator makes one per virtual user).
  const dpopKey = freshP256();
  const { kty, crv, x, y } = dpopKey.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const dpopJwk = { kty, crv, x, y };
  const expected = params.dpop ? 'DPoP' : 'Bearer';
  return {
    async token(http) {
      const now = Math.floor(Date.now() / 1000);
      // RFC 8693 §2.1 (an agent acting for a person) or RFC 6749 §4.4 (the client for itself).
      const grant: Record<string, string> = params.subjectToken
        ? { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: params.subjectToken, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' }
        : { grant_type: 'client_credentials' };
      const body = new URLSearchParams({ ...grant, resource: params.resource, scope: 'read', ...clientAuthentication(issuer, params.clientId, clientKey) }).toString();
      const headers: Record<string, string> = { 'content-type': FORM };
      if (params.dpop) headers.dpop = jws({ alg: 'ES256', typ: 'dpop+jwt', jwk: dpopJwk }, { htm: 'POST', htu: tokenEndpoint, iat: now, jti: randomUUID() }, dpopKey.privateKey);
      const response = await http.send('POST', '/oidc/token', headers, body, FORM);
      if (response.status !== 200) throw new FlowError('token', response);
      const tokenType = (JSON.parse(response.body) as { token_type?: string }).token_type;
      if (tokenType?.toLowerCase() !== expected.toLowerCase()) throw new FlowError(`token (type ${tokenType}, expected ${expected})`, response);
    },
  };
}

export interface IntrospectionClient {
  /** One RFC 7662 introspection of the API key; resolves when Keybound said it is an active key. */
  check(http: HttpClient): Promise<void>;
}

/** A resource server checking one API key at Keybound's introspection endpoint (what `keybound/resource` does on a cache miss). */
export function introspectionClient(baseUrl: string, params: IntrospectionParams, key: string): IntrospectionClient {
  const issuer = `${baseUrl}/oidc`;
  const clientKey = createPrivateKey({ key: params.privateJwk, format: 'jwk' });
  return {
    async check(http) {
      const body = new URLSearchParams({ token: key, ...clientAuthentication(issuer, params.clientId, clientKey) }).toString();
      const response = await http.send('POST', '/oidc/token/introspection', { 'content-type': FORM, accept: 'application/json' }, body, FORM);
      if (response.status !== 200) throw new FlowError('introspection', response);
      const answer = JSON.parse(response.body) as { active?: boolean; token_type?: string };
      if (answer.active !== true || answer.token_type !== 'api_key') throw new FlowError(`introspection (active ${answer.active}, type ${answer.token_type}, expected an active api_key)`, response);
    },
  };
}
