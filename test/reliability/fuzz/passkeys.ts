/**
 * The passkey, session and account endpoints and the hosted pages in the fuzz table: registrations
 * and assertions built right around a fresh challenge and then broken in one place, and every other
 * JSON endpoint and page through the generic rows.
 */
import { randomBytes, sign } from 'node:crypto';
import fc from 'fast-check';
import { base64url } from '../../../src/core/bytes.ts';
import { ORIGIN } from '../../helpers/app.ts';
import { byteMutation, concat, mutateBytes, nastyString, cborItem, nestedCbor, sometimes, type ByteMutation } from './arbitraries.ts';
import { bodilessEndpoint, JSON_TYPE, jsonEndpoint, jsonMutation, mutateJson, type JsonMutation } from './requests.ts';
import type { FuzzEndpoint } from './types.ts';
import { attestationObject, attestationRecipe, authenticatorData, clientData, clientDataRecipe, sha256, type AttestationRecipe, type ClientDataRecipe } from './webauthn.ts';

const registrationVerify: FuzzEndpoint<{ clientData: ClientDataRecipe; attestation: AttestationRecipe; body: JsonMutation | null; nickname: string | null }> = {
  name: 'POST /api/v1/passkeys/registration/verify (mutated registrations)',
  runs: 2000,
  recipes: fc.record({
    clientData: clientDataRecipe,
    attestation: attestationRecipe,
    // Mostly well-formed JSON around the hostile bytes, so most cases get past the schema to the parsers.
    body: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: jsonMutation }),
    nickname: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: nastyString }),
  }),
  async build(recipe, ctx) {
    const { challenge } = await ctx.registrationChallenge();
    const { attestationObject: attObj, credentialId } = attestationObject(recipe.attestation);
    let body: unknown = {
      response: {
        id: base64url.encode(credentialId),
        rawId: base64url.encode(credentialId),
        type: 'public-key',
        response: { clientDataJSON: base64url.encode(clientData(recipe.clientData, 'webauthn.create', challenge)), attestationObject: base64url.encode(attObj), transports: ['internal'] },
        clientExtensionResults: {},
      },
      ...(recipe.nickname !== null ? { nickname: recipe.nickname } : {}),
    };
    if (recipe.body) body = mutateJson(body, recipe.body);
    return { method: 'POST', url: '/api/v1/passkeys/registration/verify', headers: { origin: ORIGIN, 'content-type': JSON_TYPE }, payload: JSON.stringify(body) ?? 'null' };
  },
};

/** How an assertion goes wrong. */
type AssertionRecipe = {
  readonly clientData: ClientDataRecipe;
  readonly authData: { readonly flags: number | null; readonly extensions: Uint8Array | null; readonly mutation: ByteMutation | null; readonly rpId: string | null };
  readonly signature: { readonly kind: 'keep' } | { readonly kind: 'mutate'; readonly mutation: ByteMutation } | { readonly kind: 'der'; readonly r: Uint8Array; readonly s: Uint8Array };
  readonly credential: 'own' | 'random' | 'long';
  readonly userHandle: { readonly kind: 'keep' } | { readonly kind: 'drop' } | { readonly kind: 'bytes'; readonly bytes: Uint8Array };
  readonly body: JsonMutation | null;
};

const authenticationVerify: FuzzEndpoint<AssertionRecipe> = {
  name: 'POST /api/v1/passkeys/authentication/verify (mutated assertions)',
  runs: 2000,
  recipes: fc.record({
    clientData: clientDataRecipe,
    authData: fc.record({
      flags: sometimes(fc.integer({ min: 0, max: 255 }), 30),
      extensions: sometimes(fc.oneof(cborItem, nestedCbor), 20),
      mutation: sometimes(byteMutation, 20),
      rpId: sometimes(fc.constantFrom('evil.example', ''), 10),
    }),
    signature: fc.oneof(
      { weight: 5, arbitrary: fc.constant({ kind: 'keep' as const }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('mutate' as const), mutation: byteMutation }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('der' as const), r: fc.uint8Array({ maxLength: 80 }), s: fc.uint8Array({ maxLength: 80 }) }) },
    ),
    credential: fc.oneof({ weight: 7, arbitrary: fc.constant('own' as const) }, { weight: 2, arbitrary: fc.constant('random' as const) }, { weight: 1, arbitrary: fc.constant('long' as const) }),
    userHandle: fc.oneof(
      { weight: 6, arbitrary: fc.constant({ kind: 'keep' as const }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'drop' as const }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 100 }) }) },
    ),
    body: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: jsonMutation }),
  }),
  async build(recipe, ctx) {
    const challenge = await ctx.authenticationChallenge();
    const signer = await ctx.signer();
    const credential = signer.credential;
    credential.signCount += 1;
    const cd = clientData(recipe.clientData, 'webauthn.get', challenge);
    let data = authenticatorData({ flags: recipe.authData.flags ?? 0x05, signCount: credential.signCount, ...(recipe.authData.rpId !== null ? { rpId: recipe.authData.rpId } : {}) });
    if (recipe.authData.extensions) {
      data = concat(data, recipe.authData.extensions);
      data[32] = data[32]! | 0x80;
    }
    if (recipe.authData.mutation) data = mutateBytes(data, recipe.authData.mutation);
    let signature: Uint8Array = new Uint8Array(sign('sha256', concat(data, sha256(cd)), credential.privateKey));
    if (recipe.signature.kind === 'mutate') signature = mutateBytes(signature, recipe.signature.mutation);
    if (recipe.signature.kind === 'der') {
      const int = (b: Uint8Array) => concat(Uint8Array.of(0x02, b.length & 0xff), b);
      const seq = concat(int(recipe.signature.r), int(recipe.signature.s));
      signature = concat(Uint8Array.of(0x30, seq.length & 0xff), seq);
    }
    const id = recipe.credential === 'own' ? credential.id : new Uint8Array(randomBytes(recipe.credential === 'long' ? 1024 : 32));
    const userHandle = recipe.userHandle.kind === 'keep' ? credential.userHandle : recipe.userHandle.kind === 'bytes' ? base64url.encode(recipe.userHandle.bytes) : undefined;
    let body: unknown = {
      response: {
        id: base64url.encode(id),
        rawId: base64url.encode(id),
        type: 'public-key',
        response: { clientDataJSON: base64url.encode(cd), authenticatorData: base64url.encode(data), signature: base64url.encode(signature), ...(userHandle !== undefined ? { userHandle } : {}) },
        clientExtensionResults: {},
      },
    };
    if (recipe.body) body = mutateJson(body, recipe.body);
    return { method: 'POST', url: '/api/v1/passkeys/authentication/verify', headers: { origin: ORIGIN, 'content-type': JSON_TYPE }, payload: JSON.stringify(body) ?? 'null' };
  },
};

/** The passkey, session and account endpoints and the hosted pages (fuzz/table.ts joins every group). */
export const PASSKEY_ENDPOINTS: readonly FuzzEndpoint[] = [
  jsonEndpoint('POST', '/api/v1/passkeys/registration/options', (ctx) => ({ enrolmentToken: ctx.enrolmentToken }), { cookie: true }),
  registrationVerify,
  jsonEndpoint('POST', '/api/v1/passkeys/authentication/options', () => ({ username: 'fuzz-signer' })),
  authenticationVerify,
  jsonEndpoint('PATCH', '/api/v1/passkeys/:id', () => ({ nickname: 'Renamed' }), { cookie: true, runs: 1000 }),
  bodilessEndpoint('GET', '/api/v1/session'),
  bodilessEndpoint('DELETE', '/api/v1/session'),
  bodilessEndpoint('GET', '/api/v1/sessions'),
  bodilessEndpoint('DELETE', '/api/v1/sessions/:id'),
  bodilessEndpoint('DELETE', '/api/v1/sessions'),
  bodilessEndpoint('GET', '/api/v1/passkeys'),
  bodilessEndpoint('DELETE', '/api/v1/passkeys/:id'),
  bodilessEndpoint('GET', '/enrol/:token', { html: true }),
  bodilessEndpoint('GET', '/login', { html: true }),
  bodilessEndpoint('GET', '/account', { html: true }),
  bodilessEndpoint('GET', '/api/v1/:id'),
];
