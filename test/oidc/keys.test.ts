/**
 * Signing keys against `keybound serve`: made on first start, rotated by `keybound keys
 * rotate-signing` while the server runs (it re-reads keys every KEYBOUND_OIDC_KEY_REFRESH, 1 s
 * here), the old key still verifying during the overlap and gone after it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '../../src/resource/index.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';

const RESOURCE = 'https://api.example.test/';

describe('signing key rotation', () => {
  let server: ServerProcess;
  let clientId: string;
  let clientKey: CryptoKey;
  let issuer: string;

  beforeAll(async () => {
    server = await startServer({ env: { KEYBOUND_OIDC_RESOURCES: RESOURCE, KEYBOUND_OIDC_KEY_REFRESH: '1' } });
    issuer = `${server.baseUrl}/oidc`;
    const pair = await generateKeyPair('ES256', { extractable: true });
    clientKey = pair.privateKey;
    const file = join(mkdtempSync(join(tmpdir(), 'keybound-jwks-')), 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [await exportJWK(pair.publicKey)] }));
    clientId = (await server.cliJson<{ client_id: string }>(['clients', 'create', '--name', 'svc', '--jwks', file, '--grant-types', 'client_credentials', '--resource', RESOURCE, '--json'])).client_id;
  });
  afterAll(async () => server?.stop());

  const jwksKids = async () => ((await (await fetch(`${issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  /** Polls the JWKS (bounded) until it starts with `first`: the server re-reads keys every second. */
  const waitForKids = async (first: string) => {
    const deadline = Date.now() + 15_000;
    while ((await jwksKids())[0] !== first) {
      if (Date.now() > deadline) throw new Error(`JWKS did not switch to ${first}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return jwksKids();
  };
  const accessToken = async () => {
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer(clientId).setSubject(clientId).setAudience(issuer).setJti(randomUUID()).setIssuedAt().setExpirationTime('60s').sign(clientKey);
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  };
  const verifies = async (token: string) => (await createVerifier({ issuer, audience: RESOURCE }).verify({ method: 'GET', url: RESOURCE, authorization: `Bearer ${token}` })).ok;

  const currentKid = async (alg: string) =>
    (await server.cliJson<{ kid: string; alg: string; status: string }[]>(['keys', 'list-signing', '--json'])).find((k) => k.alg === alg && k.status === 'current')!.kid;

  it('publishes an ES256 key (the default) and an RS256 key (OIDC Discovery §3) from first start', async () => {
    const listed = await server.cliJson<{ kid: string; alg: string; status: string }[]>(['keys', 'list-signing', '--json']);
    expect(listed).toHaveLength(2);
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ alg: 'ES256', status: 'current' }), expect.objectContaining({ alg: 'RS256', status: 'current' })]));
    expect((await jwksKids()).sort()).toEqual(listed.map((k) => k.kid).sort());
  });

  it('signs with the new key after a rotation, keeps verifying the old one during the overlap, and drops it after', async () => {
    const oldKid = await currentKid('ES256');
    const rsKid = await currentKid('RS256');
    const oldToken = await accessToken();
    expect(decodeProtectedHeader(oldToken).kid).toBe(oldKid);

    // --lead 0: signs at once (test/oidc/key-lead.test.ts covers the default lead time).
    const rotation = await server.cliJson<{ kid: string; retired: string }>(['keys', 'rotate-signing', '--lead', '0', '--json']);
    expect(rotation.retired).toBe(oldKid);
    expect(await waitForKids(rotation.kid)).toEqual([rotation.kid, rsKid, oldKid]);
    const newToken = await accessToken();
    expect(decodeProtectedHeader(newToken).kid).toBe(rotation.kid);
    expect(await verifies(oldToken)).toBe(true);
    expect(await verifies(newToken)).toBe(true);

    // A rotation with no overlap retires the previous key at once (for a suspected key compromise).
    const second = await server.cliJson<{ kid: string; retired: string }>(['keys', 'rotate-signing', '--lead', '0', '--overlap', '0', '--json']);
    const kids = await waitForKids(second.kid);
    expect(kids).toEqual([second.kid, rsKid, oldKid]);
    expect(kids).not.toContain(rotation.kid);
  });
});
