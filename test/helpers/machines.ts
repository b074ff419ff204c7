/**
 * A workload's side of client credentials (RFC 7523 `private_key_jwt`, RFC 9449 DPoP) against the
 * in-process app: a key pair, client assertions and DPoP proofs, and token requests by inject.
 */
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { TestApp } from './app.ts';

export interface MachineKey {
  readonly privateKey: CryptoKey;
  readonly jwks: { keys: Record<string, unknown>[] };
}

export async function machineKey(kid: string = randomUUID()): Promise<MachineKey> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { privateKey: pair.privateKey, jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), alg: 'ES256', use: 'sig', kid }] } };
}

export const form = (t: TestApp, url: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(body).toString() });

/** A client assertion (RFC 7523 §3), signed now (the provider checks it against the real clock). */
export const clientAssertion = (t: TestApp, clientId: string, key: CryptoKey) =>
  new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer(clientId).setSubject(clientId).setAudience(t.config.oidc.issuer).setJti(randomUUID()).setIssuedAt().setExpirationTime('60s').sign(key);

export async function clientAuth(t: TestApp, clientId: string, key: CryptoKey): Promise<Record<string, string>> {
  return { client_id: clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await clientAssertion(t, clientId, key) };
}

/** A DPoP proof for the token endpoint (RFC 9449 §4.2). */
export async function dpopProof(t: TestApp): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = (await exportJWK(publicKey)) as JWK;
  return new SignJWT({ htm: 'POST', htu: `${t.config.oidc.issuer}/token`, iat: Math.floor(Date.now() / 1000), jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(privateKey);
}

/** A client-credentials token request. */
export async function clientCredentials(t: TestApp, clientId: string, key: CryptoKey, options: { resource?: string; scope?: string; dpop?: boolean } = {}) {
  const body = { grant_type: 'client_credentials', ...(options.resource ? { resource: options.resource } : {}), ...(options.scope ? { scope: options.scope } : {}), ...(await clientAuth(t, clientId, key)) };
  return form(t, '/oidc/token', body, options.dpop ? { dpop: await dpopProof(t) } : {});
}

export const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
