/**
 * The governance endpoints in the fuzz table: administration of accounts, assisted recoveries and
 * approvals, the account's recoveries, paths and connected apps, device links, the migration sign-in,
 * a person's own API keys, and the Shared Signals stream management endpoints. The fuzz session is a member's, so most admin
 * cases end at the gate (403); what is judged is that every answer is a registered 4xx, never a 5xx.
 * The SSF rows send hostile bearer tokens and bodies: none is a valid `ssf` token, so they test the
 * token check and the body parsing before it.
 */
import fc from 'fast-check';
import { ORIGIN } from '../../helpers/app.ts';
import { nastyString } from './arbitraries.ts';
import { bodilessEndpoint, bodyRecipe, bodyRequest, JSON_TYPE, jsonEndpoint, jsonMutation, mutateJson } from './requests.ts';
import type { FuzzEndpoint, FuzzRequest } from './types.ts';

const ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** An SSF endpoint (SSF 1.0 §8.1): hostile Authorization headers and bodies. */
function ssfEndpoint(method: FuzzRequest['method'], url: string, valid: unknown): FuzzEndpoint {
  return {
    name: `${method} ${url} (SSF, hostile bearer tokens)`,
    runs: 500,
    recipes: fc.record({
      authorization: fc.oneof(
        fc.constant(null),
        nastyString.filter((s) => s.length < 500).map((s) => `Bearer ${s}`),
        fc.constantFrom('Bearer', 'Bearer ', 'DPoP abc', 'Basic Zm9vOmJhcg==', 'bearer eyJhbGciOiJub25lIn0.e30.', `Bearer ${'a'.repeat(5000)}`),
      ),
      body: fc.oneof({ weight: 2, arbitrary: bodyRecipe.map((b) => ({ kind: 'any' as const, b })) }, { weight: 3, arbitrary: jsonMutation.map((m) => ({ kind: 'mutate' as const, m })) }),
      query: fc.option(nastyString.filter((s) => s.length < 300), { nil: null }),
    }),
    build(recipe) {
      const headers: Record<string, string> = recipe.authorization === null ? {} : { authorization: recipe.authorization.replace(/[^\x20-\x7e]/g, '?') };
      const target = recipe.query === null ? url : `${url}?${new URLSearchParams({ stream_id: recipe.query }).toString()}`;
      if (method === 'GET' || method === 'DELETE') return { method, url: target, headers: { origin: ORIGIN, ...headers } };
      if (recipe.body.kind === 'any') return bodyRequest(method, target, recipe.body.b, headers);
      return { method, url: target, headers: { origin: ORIGIN, 'content-type': JSON_TYPE, ...headers }, payload: JSON.stringify(mutateJson(valid, recipe.body.m)) ?? 'null' };
    },
  };
}

const stream = { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'https://receiver.example.test/events' }, events_requested: ['https://schemas.openid.net/secevent/caep/event-type/session-revoked'] };

export const GOVERNANCE_ENDPOINTS: readonly FuzzEndpoint[] = [
  // Administration of accounts (admin gate; the fuzz session is a member's).
  bodilessEndpoint('GET', '/api/v1/admin/accounts', { runs: 500 }),
  bodilessEndpoint('GET', '/api/v1/admin/accounts/:id', { runs: 500 }),
  bodilessEndpoint('GET', '/api/v1/admin/accounts/:id/paths', { runs: 500 }),
  jsonEndpoint('PATCH', '/api/v1/admin/accounts/fuzz-signer', () => ({ displayName: 'Fuzz', email: null }), { cookie: true, runs: 500 }),
  jsonEndpoint('POST', '/api/v1/admin/accounts/fuzz-signer/role', () => ({ role: 'admin' }), { cookie: true, runs: 500 }),
  jsonEndpoint('POST', '/api/v1/admin/sessions/revoke', () => ({ username: 'fuzz-signer' }), { cookie: true, runs: 500 }),
  // Assisted recoveries and approvals.
  jsonEndpoint('POST', '/api/v1/admin/recoveries', () => ({ username: 'fuzz-signer', reason: 'lost every passkey', revokeExisting: true }), { cookie: true, runs: 500 }),
  bodilessEndpoint('GET', '/api/v1/admin/recoveries', { runs: 500 }),
  bodilessEndpoint('GET', '/api/v1/admin/recoveries/:id', { runs: 500 }),
  jsonEndpoint('POST', `/api/v1/admin/recoveries/${ID}/approve`, () => ({}), { cookie: true, runs: 500 }),
  jsonEndpoint('POST', `/api/v1/admin/recoveries/${ID}/cancel`, () => ({}), { cookie: true, runs: 500 }),
  jsonEndpoint('POST', `/api/v1/admin/recoveries/${ID}/link`, () => ({}), { cookie: true, runs: 500 }),
  jsonEndpoint('POST', `/api/v1/admin/approvals/${ID}/approve`, () => ({}), { cookie: true, runs: 500 }),
  jsonEndpoint('POST', `/api/v1/admin/approvals/${ID}/cancel`, () => ({}), { cookie: true, runs: 500 }),
  bodilessEndpoint('GET', '/api/v1/account/recoveries', { runs: 500 }),
  jsonEndpoint('POST', `/api/v1/account/recoveries/${ID}/cancel`, () => ({}), { cookie: true, runs: 500 }),
  // The account's paths, connected apps and devices.
  bodilessEndpoint('GET', '/api/v1/account/paths', { runs: 300 }),
  bodilessEndpoint('GET', '/api/v1/grants', { runs: 500 }),
  bodilessEndpoint('DELETE', '/api/v1/grants/:id', { runs: 500 }),
  jsonEndpoint('POST', '/api/v1/devices/link', () => ({}), { cookie: true, runs: 500 }),
  jsonEndpoint('POST', `/api/v1/passkeys/${ID}/lost`, () => ({}), { cookie: true, runs: 500 }),
  // The migration sign-in (password from another system, issue 13).
  jsonEndpoint('POST', '/api/v1/migration/sign-in', () => ({ username: 'fuzz-signer', password: 'correct horse battery staple' }), { runs: 1000 }),
  bodilessEndpoint('GET', '/api/v1/openapi.json', { runs: 200 }),
  // A person's own API keys (docs/nhi.md "Your own keys").
  bodilessEndpoint('GET', '/api/v1/account/api-keys', { runs: 500 }),
  jsonEndpoint('POST', '/api/v1/account/api-keys', () => ({ name: 'Fuzz key', scopes: ['read'], expiresIn: 3600 }), { cookie: true, runs: 1000 }),
  bodilessEndpoint('DELETE', '/api/v1/account/api-keys/:id', { runs: 500 }),
  jsonEndpoint('POST', '/api/v1/account/api-keys/ak_AAAAAAAAAAAAAAAA/rotate', () => ({ overlap: 60 }), { cookie: true, runs: 500 }),
  // Shared Signals stream management (SSF 1.0 §8.1).
  ssfEndpoint('POST', '/ssf/stream', stream),
  ssfEndpoint('GET', '/ssf/stream', null),
  ssfEndpoint('PATCH', '/ssf/stream', { stream_id: ID, ...stream }),
  ssfEndpoint('PUT', '/ssf/stream', { stream_id: ID, ...stream }),
  ssfEndpoint('DELETE', '/ssf/stream', null),
  ssfEndpoint('GET', '/ssf/status', null),
  ssfEndpoint('POST', '/ssf/status', { stream_id: ID, status: 'paused', reason: 'maintenance' }),
  ssfEndpoint('POST', '/ssf/subjects/add', { stream_id: ID, subject: { format: 'iss_sub', iss: 'https://id.example.test/oidc', sub: 'x' }, verified: true }),
  ssfEndpoint('POST', '/ssf/subjects/remove', { stream_id: ID, subject: { format: 'email', email: 'a@example.test' } }),
  ssfEndpoint('POST', '/ssf/verify', { stream_id: ID, state: 'abc' }),
];
