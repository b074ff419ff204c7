/**
 * WebAuthn structures built from recipes: authenticator data, attestation objects (valid, raw CBOR,
 * deeply nested, mutated, with hostile COSE keys or oversized lengths) and client data.
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { ORIGIN } from '../../helpers/app.ts';
import { SoftAuthenticator } from '../../helpers/softAuthenticator.ts';
import { anyJson, byteMutation, cborHead, cborItem, concat, encodeCbor, hostileCoseKey, mutateBytes, nastyString, nestedCbor, rawJsonText, sometimes, type ByteMutation, type CborPlain } from './arbitraries.ts';

// ---------------------------------------------------------------- WebAuthn structures

export const sha256 = (data: string | Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());

/** A well-formed P-256 COSE key (fixed: registration with `none` attestation never signs). */
const FIXED_COSE_KEY = (() => {
  const authenticator = new SoftAuthenticator();
  authenticator.create({ challenge: 'AAAA', user: { id: 'AAAA' } });
  return new Uint8Array(authenticator.credential.cose);
})();

export function authenticatorData(options: { rpId?: string; flags?: number; signCount?: number; credentialId?: Uint8Array; cose?: Uint8Array; credentialIdLength?: number; extensions?: Uint8Array; aaguid?: Uint8Array }): Uint8Array {
  const head = new Uint8Array(37);
  head.set(sha256(options.rpId ?? 'localhost'), 0);
  head[32] = options.flags ?? 0x45;
  new DataView(head.buffer).setUint32(33, (options.signCount ?? 0) >>> 0);
  const parts: Uint8Array[] = [head];
  if (options.credentialId) {
    const length = options.credentialIdLength ?? options.credentialId.length;
    parts.push(options.aaguid ?? new Uint8Array(16), Uint8Array.of((length >> 8) & 0xff, length & 0xff), options.credentialId, options.cose ?? FIXED_COSE_KEY);
  }
  if (options.extensions) parts.push(options.extensions);
  return concat(...parts);
}

function clientDataJson(type: string, challenge: string, extra: Record<string, unknown> = {}): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type, challenge, origin: ORIGIN, crossOrigin: false, ...extra }));
}

/** What to do to one part of an attestation object. */
export type AttestationRecipe =
  | { readonly kind: 'valid' }
  | { readonly kind: 'raw'; readonly bytes: Uint8Array }
  | { readonly kind: 'nested'; readonly bytes: Uint8Array; readonly where: 'whole' | 'attStmt' | 'authData' }
  | { readonly kind: 'mutateWhole'; readonly mutation: ByteMutation }
  | { readonly kind: 'fields'; readonly fmt: string; readonly attStmt: Uint8Array; readonly authData: 'valid' | 'bytes'; readonly authDataBytes: Uint8Array }
  | {
      readonly kind: 'authData';
      readonly flags: number;
      readonly rpId: string;
      readonly credentialIdLength: number;
      readonly declaredLength: number | null;
      readonly cose: Uint8Array | null;
      readonly extensions: Uint8Array | null;
      readonly mutation: ByteMutation | null;
    }
  | { readonly kind: 'oversized'; readonly which: 'fmt' | 'attStmt' | 'authData'; readonly width: 4 | 8 };

const fmtName = fc.oneof(fc.constantFrom('none', 'packed', 'fido-u2f', 'android-key', 'android-safetynet', 'tpm', 'apple', 'compound', ''), fc.string({ maxLength: 20 }));

export const attestationRecipe: fc.Arbitrary<AttestationRecipe> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'valid' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('raw' as const), bytes: fc.oneof(cborItem, fc.uint8Array({ maxLength: 600 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('nested' as const), bytes: nestedCbor, where: fc.constantFrom('whole' as const, 'attStmt' as const, 'authData' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('mutateWhole' as const), mutation: byteMutation }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('fields' as const),
      fmt: fmtName,
      attStmt: fc.oneof(
        cborItem,
        fc.record({ alg: fc.integer({ min: -300, max: 10 }), sig: fc.uint8Array({ maxLength: 80 }), x5c: fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 3 }) }).map(({ alg, sig, x5c }) =>
          encodeCbor(new Map<string, CborPlain>([['alg', alg], ['sig', sig], ['x5c', x5c]])),
        ),
        fc.uint8Array({ maxLength: 40 }).map((resp) => encodeCbor(new Map<string, CborPlain>([['ver', '1'], ['response', resp]]))),
      ),
      authData: fc.constantFrom('valid' as const, 'bytes' as const),
      authDataBytes: fc.uint8Array({ maxLength: 200 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('authData' as const),
      flags: fc.oneof({ weight: 3, arbitrary: fc.constant(0x45) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) }),
      rpId: fc.oneof({ weight: 8, arbitrary: fc.constant('localhost') }, { weight: 1, arbitrary: fc.constantFrom('evil.example', '') }),
      credentialIdLength: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(0, 1022, 1023, 1024, 2000)),
      declaredLength: sometimes(fc.constantFrom(0, 1, 1023, 1024, 65535), 15),
      cose: sometimes(hostileCoseKey, 60),
      extensions: sometimes(fc.oneof(cborItem, nestedCbor), 20),
      mutation: sometimes(byteMutation, 20),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('oversized' as const), which: fc.constantFrom('fmt' as const, 'attStmt' as const, 'authData' as const), width: fc.constantFrom(4 as const, 8 as const) }) },
);

/** Builds an attestation object (and the credential id it claims) from a recipe. */
export function attestationObject(recipe: AttestationRecipe): { attestationObject: Uint8Array; credentialId: Uint8Array } {
  const credentialId = new Uint8Array(randomBytes(recipe.kind === 'authData' ? recipe.credentialIdLength : 32));
  const validAuthData = () => authenticatorData({ credentialId });
  const wrap = (fmt: Uint8Array, attStmt: Uint8Array, authData: Uint8Array) =>
    concat(cborHead(5, 3), encodeCbor('fmt'), fmt, encodeCbor('attStmt'), attStmt, encodeCbor('authData'), authData);
  const bytesItem = (b: Uint8Array) => concat(cborHead(2, b.length), b);
  const valid = () => wrap(encodeCbor('none'), encodeCbor(new Map()), bytesItem(validAuthData()));
  switch (recipe.kind) {
    case 'valid':
      return { attestationObject: valid(), credentialId };
    case 'raw':
      return { attestationObject: recipe.bytes, credentialId };
    case 'nested':
      if (recipe.where === 'whole') return { attestationObject: recipe.bytes, credentialId };
      if (recipe.where === 'attStmt') return { attestationObject: wrap(encodeCbor('none'), recipe.bytes, bytesItem(validAuthData())), credentialId };
      return { attestationObject: wrap(encodeCbor('none'), encodeCbor(new Map()), bytesItem(authenticatorData({ credentialId, flags: 0xc5, extensions: recipe.bytes }))), credentialId };
    case 'mutateWhole':
      return { attestationObject: mutateBytes(valid(), recipe.mutation), credentialId };
    case 'fields':
      return {
        attestationObject: wrap(encodeCbor(recipe.fmt), recipe.attStmt, bytesItem(recipe.authData === 'valid' ? validAuthData() : recipe.authDataBytes)),
        credentialId,
      };
    case 'authData': {
      let data = authenticatorData({
        flags: recipe.flags | 0x40,
        rpId: recipe.rpId,
        credentialId,
        ...(recipe.declaredLength !== null ? { credentialIdLength: recipe.declaredLength } : {}),
        ...(recipe.cose ? { cose: recipe.cose } : {}),
        ...(recipe.extensions ? { extensions: recipe.extensions } : {}),
      });
      if (recipe.mutation) data = mutateBytes(data, recipe.mutation);
      return { attestationObject: wrap(encodeCbor('none'), encodeCbor(new Map()), bytesItem(data)), credentialId };
    }
    case 'oversized': {
      // A head that claims far more bytes than follow (4 GiB or 2^64-1).
      const huge = recipe.width === 8 ? 2n ** 64n - 1n : 2n ** 32n - 1n;
      const head = (major: number) => cborHead(major, huge, recipe.width);
      const fmt = recipe.which === 'fmt' ? concat(head(3), encodeCbor('none').slice(1)) : encodeCbor('none');
      const attStmt = recipe.which === 'attStmt' ? head(5) : encodeCbor(new Map());
      const authData = recipe.which === 'authData' ? concat(head(2), validAuthData()) : bytesItem(validAuthData());
      return { attestationObject: wrap(fmt, attStmt, authData), credentialId };
    }
  }
}

// ---------------------------------------------------------------- client data

/** How clientDataJSON goes wrong (or not). */
export type ClientDataRecipe =
  | { readonly kind: 'valid' }
  | { readonly kind: 'fields'; readonly changes: Record<string, unknown> }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'bytes'; readonly mutation: ByteMutation };

export const clientDataRecipe: fc.Arbitrary<ClientDataRecipe> = fc.oneof(
  { weight: 10, arbitrary: fc.constant({ kind: 'valid' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fields' as const), changes: fc.dictionary(fc.constantFrom('type', 'challenge', 'origin', 'crossOrigin', 'topOrigin', 'tokenBinding', '__proto__', 'other'), anyJson, { minKeys: 1, maxKeys: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.oneof(rawJsonText, nastyString) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('bytes' as const), mutation: byteMutation }) },
);

export function clientData(recipe: ClientDataRecipe, type: string, challenge: string): Uint8Array {
  switch (recipe.kind) {
    case 'valid':
      return clientDataJson(type, challenge);
    case 'fields': {
      const base: Record<string, unknown> = { type, challenge, origin: ORIGIN, crossOrigin: false };
      for (const [k, v] of Object.entries(recipe.changes)) Object.defineProperty(base, k, { value: v, enumerable: true, writable: true, configurable: true });
      return new TextEncoder().encode(JSON.stringify(base));
    }
    case 'text':
      return new TextEncoder().encode(recipe.text);
    case 'bytes':
      return mutateBytes(clientDataJson(type, challenge), recipe.mutation);
  }
}

