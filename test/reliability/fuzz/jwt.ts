/**
 * Hostile JWTs: a well-signed token with one part broken (header or claims of the wrong type or
 * shape, `alg: none`, a stripped or altered signature, the wrong number of parts, huge or non-base64
 * segments), for client assertions, DPoP proofs, bearer tokens and ID token hints.
 */
import fc from 'fast-check';
import { SignJWT, type CryptoKey, type JWK, type JWTHeaderParameters } from 'jose';
import { anyJson, byteMutation, mutateBytes, nastyString, type ByteMutation } from './arbitraries.ts';

export type JwtRecipe =
  | { readonly kind: 'valid' }
  | { readonly kind: 'header'; readonly changes: Record<string, unknown> }
  | { readonly kind: 'claims'; readonly changes: Record<string, unknown> }
  | { readonly kind: 'signature'; readonly mutation: ByteMutation }
  | { readonly kind: 'parts'; readonly count: number }
  | { readonly kind: 'segment'; readonly which: 0 | 1 | 2; readonly text: string }
  | { readonly kind: 'text'; readonly text: string };

const headerChange = fc.dictionary(fc.constantFrom('alg', 'typ', 'kid', 'jwk', 'crit', 'b64', 'x5c', 'jku', 'cty', 'enc', 'zip'), fc.oneof(anyJson, fc.constantFrom('none', 'HS256', 'RS256', 'ES256', 'EdDSA', 'dpop+jwt', 'at+jwt', 'JWT', '')), { minKeys: 1, maxKeys: 3 });
const claimChange = fc.dictionary(fc.constantFrom('iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'htm', 'htu', 'ath', 'nonce', 'scope', 'client_id', 'cnf', 'acr', 'auth_time', '__proto__'), anyJson, { minKeys: 1, maxKeys: 4 });

export const jwtRecipe: fc.Arbitrary<JwtRecipe> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'valid' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('header' as const), changes: headerChange }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('claims' as const), changes: claimChange }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('signature' as const), mutation: byteMutation }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('parts' as const), count: fc.constantFrom(1, 2, 4, 5, 6) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('segment' as const), which: fc.constantFrom(0 as const, 1 as const, 2 as const), text: fc.oneof(nastyString, fc.constantFrom('', '=', '..', 'e30', 'bnVsbA', 'W10')) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), text: nastyString }) },
);

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value) ?? 'null').toString('base64url');

/** Signs `claims` with `key`, then breaks the result as `recipe` says. */
export async function buildJwt(recipe: JwtRecipe, input: { key: CryptoKey; header: JWTHeaderParameters; claims: Record<string, unknown> }): Promise<string> {
  if (recipe.kind === 'text') return recipe.text;
  // Header and claim changes are signed, so the signature holds over the broken content.
  const header: Record<string, unknown> = { ...input.header };
  const claims: Record<string, unknown> = { ...input.claims };
  if (recipe.kind === 'header') for (const [k, v] of Object.entries(recipe.changes)) define(header, k, v);
  if (recipe.kind === 'claims') for (const [k, v] of Object.entries(recipe.changes)) define(claims, k, v);
  let token: string;
  try {
    token = await new SignJWT(claims as never).setProtectedHeader(input.header).sign(input.key);
    if (recipe.kind === 'header') {
      // jose refuses to sign most broken headers: write the header by hand and keep the old signature.
      const [, payload, signature] = token.split('.');
      token = `${b64(header)}.${payload}.${signature}`;
    }
  } catch {
    token = `${b64(header)}.${b64(claims)}.`;
  }
  const parts = token.split('.');
  switch (recipe.kind) {
    case 'signature': {
      const signature = mutateBytes(new Uint8Array(Buffer.from(parts[2] ?? '', 'base64url')), recipe.mutation);
      return `${parts[0]}.${parts[1]}.${Buffer.from(signature).toString('base64url')}`;
    }
    case 'parts':
      return Array.from({ length: recipe.count }, (_, i) => parts[i % 3]).join('.');
    case 'segment':
      parts[recipe.which] = recipe.text;
      return parts.join('.');
    default:
      return token;
  }
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export type { JWK };
