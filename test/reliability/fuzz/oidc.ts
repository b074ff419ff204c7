/**
 * The OpenID provider's endpoints in the fuzz table: the token endpoint with hostile client
 * assertions (private_key_jwt, RFC 7523) and DPoP proofs (RFC 9449), userinfo with hostile bearer
 * tokens, introspection and revocation, the authorization and logout endpoints with hostile query
 * parameters, and Keybound's interaction routes. Errors here may also be OAuth 2.0 error codes.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { createClient } from '../../../src/oidc/clients.ts';
import type { TestApp } from '../../helpers/app.ts';
import { anyJson, nastyString } from './arbitraries.ts';
import type { FuzzContext, FuzzEndpoint, FuzzRequest } from './types.ts';
import { buildJwt, jwtRecipe, type JwtRecipe } from './jwt.ts';

/** The OAuth 2.0 error codes (IANA "OAuth Extensions Error Registry", RFC 6749, 6750, 9449, OIDC Core). */
export const OAUTH_ERRORS: ReadonlySet<string> = new Set([
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope',
  'access_denied', 'unsupported_response_type', 'temporarily_unavailable', 'interaction_required', 'login_required',
  'account_selection_required', 'consent_required', 'invalid_request_uri', 'invalid_request_object', 'request_not_supported',
  'request_uri_not_supported', 'registration_not_supported', 'invalid_token', 'insufficient_scope', 'invalid_dpop_proof',
  'use_dpop_nonce', 'invalid_target', 'invalid_authorization_details', 'unmet_authentication_requirements',
  'invalid_redirect_uri', 'invalid_client_metadata', 'unsupported_token_type', 'expired_token', 'authorization_pending',
  'slow_down', 'invalid_user_code', 'insufficient_user_authentication',
]);

export interface OidcFuzzState {
  readonly clientId: string;
  readonly key: CryptoKey;
  readonly kid: string;
  readonly dpopKey: CryptoKey;
  readonly dpopJwk: JWK;
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly userinfoEndpoint: string;
}

/** Registers a confidential client (private_key_jwt, client_credentials) and reads the discovery document. */
export async function createOidcState(t: TestApp): Promise<OidcFuzzState> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomBytes(8).toString('hex');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const created = await createClient(t.deps, { name: 'Fuzz client', redirectUris: ['https://app.example.test/cb'], postLogoutRedirectUris: [], public: false, jwks: { keys: [jwk] }, grantTypes: ['client_credentials', 'authorization_code'], requireDpop: false }, async () => null);
  if (!created.ok) throw new Error(created.code);
  const dpop = await generateKeyPair('ES256', { extractable: true });
  const discovery = (await t.app.inject({ method: 'GET', url: '/oidc/.well-known/openid-configuration' })).json();
  return {
    clientId: created.value.client.clientId,
    key: privateKey,
    kid,
    dpopKey: dpop.privateKey,
    dpopJwk: await exportJWK(dpop.publicKey),
    issuer: discovery.issuer,
    tokenEndpoint: discovery.token_endpoint,
    userinfoEndpoint: discovery.userinfo_endpoint,
  };
}

const path = (absolute: string) => new URL(absolute).pathname;
const now = () => Math.floor(Date.now() / 1000);
const FORM = 'application/x-www-form-urlencoded';

async function clientAssertion(recipe: JwtRecipe, state: OidcFuzzState, audience: string): Promise<string> {
  return buildJwt(recipe, {
    key: state.key,
    header: { alg: 'ES256', kid: state.kid },
    claims: { iss: state.clientId, sub: state.clientId, aud: audience, jti: randomBytes(12).toString('base64url'), iat: now(), exp: now() + 60 },
  });
}

async function dpopProof(recipe: JwtRecipe, state: OidcFuzzState, method: string, url: string): Promise<string> {
  return buildJwt(recipe, { key: state.dpopKey, header: { alg: 'ES256', typ: 'dpop+jwt', jwk: state.dpopJwk }, claims: { htm: method, htu: url, iat: now(), jti: randomBytes(12).toString('base64url') } });
}

const formParams = fc.dictionary(fc.constantFrom('scope', 'resource', 'code', 'redirect_uri', 'refresh_token', 'code_verifier', 'client_id', 'audience', 'token_type_hint', 'grant_type', 'client_assertion_type'), fc.oneof(nastyString.filter((s) => s.length < 4000), fc.constantFrom('openid', 'https://api.example.test/', 'read write')), { maxKeys: 4 });

function form(fields: Record<string, string>, extra: Record<string, string>, encoding: 'form' | 'json' | 'garbage'): { headers: Record<string, string>; payload: string } {
  const all = { ...fields, ...extra };
  if (encoding === 'json') return { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(all) };
  if (encoding === 'garbage') return { headers: { 'content-type': FORM }, payload: `${new URLSearchParams(all).toString()}&%zz=%&&==&a[]=1&a[b]=2` };
  return { headers: { 'content-type': FORM }, payload: new URLSearchParams(all).toString() };
}

const encoding = fc.oneof({ weight: 6, arbitrary: fc.constant('form' as const) }, { weight: 1, arbitrary: fc.constant('json' as const) }, { weight: 1, arbitrary: fc.constant('garbage' as const) });

const token: FuzzEndpoint<{ grant: string; assertion: JwtRecipe; dpop: JwtRecipe | null; extra: Record<string, string>; encoding: 'form' | 'json' | 'garbage' }> = {
  name: 'POST /oidc/token (hostile client assertions and DPoP proofs)',
  runs: 1000,
  recipes: fc.record({
    grant: fc.oneof({ weight: 5, arbitrary: fc.constant('client_credentials') }, { weight: 2, arbitrary: fc.constantFrom('authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'password', 'implicit', '') }, { weight: 1, arbitrary: nastyString.filter((s) => s.length < 200) }),
    assertion: jwtRecipe,
    dpop: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: jwtRecipe }),
    extra: formParams,
    encoding,
  }),
  async build(recipe, ctx) {
    const state = await ctx.oidc();
    const fields = {
      grant_type: recipe.grant,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(recipe.assertion, state, state.tokenEndpoint),
    };
    const body = form(fields, recipe.extra, recipe.encoding);
    const dpop: Record<string, string> = recipe.dpop ? { dpop: await dpopProof(recipe.dpop, state, 'POST', state.tokenEndpoint) } : {};
    return { method: 'POST', url: path(state.tokenEndpoint), headers: { ...body.headers, ...dpop }, payload: body.payload };
  },
};

const userinfo: FuzzEndpoint<{ scheme: string; token: JwtRecipe; dpop: JwtRecipe | null; method: 'GET' | 'POST' }> = {
  name: 'GET /oidc/me (hostile bearer and DPoP tokens)',
  runs: 1000,
  recipes: fc.record({
    scheme: fc.constantFrom('Bearer', 'DPoP', 'bearer', 'Basic', '', 'Bearer  '),
    token: jwtRecipe,
    dpop: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: jwtRecipe }),
    method: fc.constantFrom('GET' as const, 'POST' as const),
  }),
  async build(recipe, ctx) {
    const state = await ctx.oidc();
    // A token the provider never issued, shaped like an RFC 9068 access token.
    const accessToken = await buildJwt(recipe.token, { key: state.key, header: { alg: 'ES256', typ: 'at+jwt', kid: state.kid }, claims: { iss: state.issuer, sub: 'someone', aud: state.issuer, client_id: state.clientId, exp: now() + 60, iat: now(), jti: randomBytes(8).toString('hex'), scope: 'openid' } });
    const dpop: Record<string, string> = recipe.dpop ? { dpop: await dpopProof(recipe.dpop, state, recipe.method, state.userinfoEndpoint) } : {};
    return { method: recipe.method, url: path(state.userinfoEndpoint), headers: { authorization: `${recipe.scheme} ${accessToken}`, ...dpop } };
  },
};

function tokenManagement(which: 'introspection' | 'revocation'): FuzzEndpoint<{ token: string; hint: string; assertion: JwtRecipe; encoding: 'form' | 'json' | 'garbage' }> {
  return {
    name: `POST /oidc/token/${which}`,
    runs: 1000,
    recipes: fc.record({
      token: fc.oneof(nastyString.filter((s) => s.length < 4000), fc.string({ minLength: 43, maxLength: 43 })),
      hint: fc.constantFrom('access_token', 'refresh_token', 'id_token', '', 'x'),
      assertion: jwtRecipe,
      encoding,
    }),
    async build(recipe, ctx) {
      const state = await ctx.oidc();
      const url = `${new URL(state.tokenEndpoint).pathname}/${which}`;
      const body = form(
        { token: recipe.token, token_type_hint: recipe.hint, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await clientAssertion(recipe.assertion, state, state.tokenEndpoint) },
        {},
        recipe.encoding,
      );
      return { method: 'POST', url, headers: body.headers, payload: body.payload };
    },
  };
}

const authorizationParams = fc.dictionary(
  fc.constantFrom('client_id', 'response_type', 'scope', 'redirect_uri', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'prompt', 'max_age', 'acr_values', 'claims', 'request', 'request_uri', 'login_hint', 'id_token_hint', 'resource', 'response_mode', 'ui_locales', 'dpop_jkt'),
  fc.oneof(nastyString.filter((s) => s.length < 3000), anyJson.map((v) => JSON.stringify(v) ?? ''), fc.constantFrom('code', 'openid', 'S256', 'plain', 'login', 'none', '0', '-1', '1e308', 'urn:keybound:aal3', 'https://app.example.test/cb')),
  { maxKeys: 8 },
);

const authorize: FuzzEndpoint<{ params: Record<string, string>; realClient: boolean; idTokenHint: JwtRecipe | null; endSession: boolean }> = {
  name: 'GET /oidc/auth and /oidc/session/end (hostile parameters)',
  runs: 1000,
  recipes: fc.record({ params: authorizationParams, realClient: fc.boolean(), idTokenHint: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: jwtRecipe }), endSession: fc.boolean() }),
  async build(recipe, ctx) {
    const state = await ctx.oidc();
    const params: Record<string, string> = { ...(recipe.realClient ? { client_id: state.clientId, response_type: 'code', scope: 'openid', redirect_uri: 'https://app.example.test/cb' } : {}), ...recipe.params };
    if (recipe.idTokenHint) params.id_token_hint = await buildJwt(recipe.idTokenHint, { key: state.key, header: { alg: 'ES256' }, claims: { iss: state.issuer, sub: 'x', aud: state.clientId, exp: now() + 60, iat: now() } });
    const url = `/oidc/${recipe.endSession ? 'session/end' : 'auth'}?${new URLSearchParams(params).toString()}`;
    return { method: 'GET', url, headers: {} };
  },
};

const interaction: FuzzEndpoint<{ uid: string; step: string; body: unknown; cookie: boolean }> = {
  name: 'POST /interaction/:uid/(options|verify|abort)',
  runs: 1000,
  recipes: fc.record({
    uid: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }).map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, ''))).filter((s) => s.length > 0), fc.constantFrom('x', 'A'.repeat(21), '..', '%00')),
    step: fc.constantFrom('options', 'verify', 'abort', ''),
    body: anyJson,
    cookie: fc.boolean(),
  }),
  async build(recipe, ctx): Promise<FuzzRequest> {
    const url = `/interaction/${recipe.uid}${recipe.step ? `/${recipe.step}` : ''}`;
    const headers: Record<string, string> = { origin: 'http://localhost:8080', 'content-type': 'application/json', ...(recipe.cookie ? { cookie: await ctx.cookie() } : {}) };
    return recipe.step ? { method: 'POST', url, headers, payload: JSON.stringify(recipe.body) ?? 'null' } : { method: 'GET', url, headers };
  },
};

export const OIDC_ENDPOINTS: readonly FuzzEndpoint[] = [token, userinfo, tokenManagement('introspection'), tokenManagement('revocation'), authorize, interaction];

export type { FuzzContext };
