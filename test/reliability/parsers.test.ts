/**
 * Bad input straight into every parser (issue 5): base64url, CBOR, COSE keys, authenticator data,
 * client data, session and enrolment tokens, assertions, and whole registrations (hostile
 * attestation objects, and real attestations from the conformance fixtures with their statements,
 * certificates and TPM structures mutated), and the resource servers' JWT access-token and DPoP
 * verifier (src/resource). Each parser answers a value or its own typed error,
 * never anything else, and never hang (the slowest is reported).
 */
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { base64url } from '../../src/core/bytes.ts';
import { isErrorCode } from '../../src/core/errors.ts';
import { parseToken } from '../../src/core/tokens.ts';
import { decodeAssertion, verifyAssertion } from '../../src/webauthn/assertion.ts';
import { AuthenticatorDataError, MAX_CREDENTIAL_ID_BYTES, parseAuthenticatorData } from '../../src/webauthn/authenticatorData.ts';
import { CborError, decodeCbor, type CborValue } from '../../src/webauthn/cbor.ts';
import { decodeClientData } from '../../src/webauthn/clientData.ts';
import { CoseKeyError, importCoseKey } from '../../src/webauthn/cose.ts';
import { verifyRegistration } from '../../src/webauthn/registration.ts';
import { createVerifier } from '../../src/resource/verify.ts';
import { buildJwt, jwtRecipe, type JwtRecipe } from './fuzz/jwt.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { asList, loadCases } from '../conformance/vectors.ts';
import { anyJson, byteMutation, cborItem, encodeCbor, hostileCoseKey, mutateBytes, nastyString, nestedCbor, rawJsonText, type ByteMutation, type CborPlain } from './fuzz/arbitraries.ts';
import { attestationObject, attestationRecipe, authenticatorData, clientData, clientDataRecipe } from './fuzz/webauthn.ts';
import { record, Tally } from './support/report.ts';

/** A parse this slow counts as a hang (the slowest is reported in the table, not asserted). */
const BOUND_MS = 10_000;
const SCALE = Number(process.env.KEYBOUND_FUZZ_SCALE ?? '1');
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

/** Runs `parse`, which may only return or throw one of `allowed`; counts it and times it. */
function parseOnly<T>(tally: Tally, parse: () => T, ...allowed: (new (...args: any[]) => Error)[]): T | Error {
  const started = performance.now();
  let outcome: T | Error;
  try {
    outcome = parse();
  } catch (error) {
    if (!allowed.some((type) => error instanceof type)) throw new Error(`unexpected ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
    outcome = error as Error;
  }
  const ms = performance.now() - started;
  tally.requests++;
  tally.badInput(0, ms);
  if (ms >= BOUND_MS) throw new Error(`took ${ms.toFixed(0)} ms`);
  return outcome;
}

const bytesInput = fc.oneof(fc.uint8Array({ maxLength: 1024 }), cborItem, nestedCbor, hostileCoseKey);

describe('parsers refuse bad input with their own errors', () => {
  it('base64url: never throws; decodes exactly what encode wrote, and only canonical text', ({ task }) => {
    const tally = new Tally();
    fc.assert(
      fc.property(fc.oneof(nastyString, fc.base64String(), fc.string({ unit: fc.constantFrom(...'ABCabc019-_=+/ \n'.split('')) })), (text) => {
        const decoded = parseOnly(tally, () => base64url.decode(text));
        if (decoded instanceof Uint8Array) expect(base64url.encode(decoded)).toBe(text);
      }),
      { numRuns: runs(5000) },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(base64url.decode(base64url.encode(bytes))).toEqual(bytes);
      }),
      { numRuns: runs(2000) },
    );
    record(task, tally.figures());
  });

  it('CBOR: random, hostile, nested, truncated and oversized input gives a value or CborError', ({ task }) => {
    const tally = new Tally();
    fc.assert(fc.property(bytesInput, (bytes) => void parseOnly(tally, () => decodeCbor(bytes), CborError)), { numRuns: runs(5000) });
    // Every strict prefix of a valid item is refused as such.
    const plain: fc.Arbitrary<CborPlain> = fc.letrec<{ v: CborPlain }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.integer(),
        fc.string({ maxLength: 20 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.uniqueArray(fc.tuple(fc.oneof(fc.integer({ min: -20, max: 20 }), fc.string({ maxLength: 6 })), tie('v')), { maxLength: 4, selector: ([k]) => k }).map((e) => new Map(e)),
      ),
    })).v;
    fc.assert(
      fc.property(plain, fc.nat(), (value, cut) => {
        const bytes = encodeCbor(value);
        expect(toPlain(parseOnly(tally, () => decodeCbor(bytes)) as CborValue)).toEqual(toPlain(value as CborValue));
        const prefix = bytes.subarray(0, cut % bytes.length);
        const outcome = parseOnly(tally, () => decodeCbor(prefix), CborError);
        expect(outcome).toBeInstanceOf(CborError);
      }),
      { numRuns: runs(3000) },
    );
    record(task, tally.figures());
  });

  it('COSE keys: invalid parameters and EC points off the curve give CoseKeyError', ({ task }) => {
    const tally = new Tally();
    fc.assert(fc.property(bytesInput, (bytes) => void parseOnly(tally, () => importCoseKey(bytes), CoseKeyError)), { numRuns: runs(3000) });
    // Random P-256 coordinates are on the curve with negligible probability: always refused.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (x, y) => {
        const key = encodeCbor(new Map<number, CborPlain>([[1, 2], [3, -7], [-1, 1], [-2, x], [-3, y]]));
        const outcome = parseOnly(tally, () => importCoseKey(key), CoseKeyError);
        expect(outcome).toBeInstanceOf(CoseKeyError);
        expect((outcome as CoseKeyError).reason).toBe('malformed');
      }),
      { numRuns: runs(2000) },
    );
    record(task, tally.figures());
  });

  it('authenticator data: random and mutated bytes give AuthenticatorDataError; credential ids up to 1023 bytes', ({ task }) => {
    const tally = new Tally();
    const valid = authenticatorData({ credentialId: new Uint8Array(32) });
    fc.assert(
      fc.property(fc.oneof(bytesInput, byteMutation.map((m) => mutateBytes(valid, m))), (bytes) => void parseOnly(tally, () => parseAuthenticatorData(bytes), AuthenticatorDataError)),
      { numRuns: runs(5000) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1100 }), (length) => {
        const outcome = parseOnly(tally, () => parseAuthenticatorData(authenticatorData({ credentialId: new Uint8Array(length) })), AuthenticatorDataError);
        expect(outcome instanceof AuthenticatorDataError).toBe(length > MAX_CREDENTIAL_ID_BYTES);
      }),
      { numRuns: runs(500) },
    );
    record(task, tally.figures());
  });

  it('client data and tokens: never throw', ({ task }) => {
    const tally = new Tally();
    fc.assert(
      fc.property(fc.oneof(rawJsonText.map((t) => new TextEncoder().encode(t)), anyJson.map((v) => new TextEncoder().encode(JSON.stringify(v) ?? '')), fc.uint8Array({ maxLength: 600 }), clientDataRecipe.map((r) => clientData(r, 'webauthn.get', 'AAAA'))), (bytes) => {
        parseOnly(tally, () => decodeClientData(bytes));
      }),
      { numRuns: runs(5000) },
    );
    fc.assert(fc.property(fc.oneof(nastyString, fc.string({ minLength: 60, maxLength: 60 })), (token) => void parseOnly(tally, () => parseToken(token))), { numRuns: runs(3000) });
    record(task, tally.figures());
  });

  it('assertions: decoded and verified against a real key, only registered refusals', ({ task }) => {
    const tally = new Tally();
    const authenticator = new SoftAuthenticator();
    authenticator.create({ challenge: 'AAAA', user: { id: 'AAAA' } });
    const publicKey = importCoseKey(authenticator.credential.cose);
    const base = authenticator.get({ challenge: 'Y2hhbGxlbmdl' });
    const field = fc.oneof(fc.base64String({ maxLength: 200 }).map((s) => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')), fc.uint8Array({ maxLength: 300 }).map((b) => base64url.encode(b)), nastyString);
    fc.assert(
      fc.property(fc.record({ which: fc.constantFrom('clientDataJSON', 'authenticatorData', 'signature', 'userHandle', 'rawId'), value: field, mutation: byteMutation }), ({ which, value, mutation }) => {
        const response = structuredClone(base) as any;
        if (which === 'rawId') response.rawId = response.id = value;
        else response.response[which] = Math.random() < 0.5 ? value : base64url.encode(mutateBytes(base64url.decode(response.response[which] ?? '') ?? new Uint8Array(), mutation));
        const result = parseOnly(tally, () => {
          const decoded = decodeAssertion(response);
          return decoded.ok ? verifyAssertion(decoded.value, { publicKey, signCount: 0, backupEligible: false }, { challenge: 'Y2hhbGxlbmdl', origins: [authenticator.origin], rpIds: ['localhost'], requireUserVerification: true, allowedTopOrigins: [] }) : decoded;
        });
        if (!(result instanceof Error) && !result.ok) expect(isErrorCode(result.code)).toBe(true);
      }),
      { numRuns: runs(3000) },
    );
    record(task, tally.figures());
  });

  it('registrations: hostile attestation objects and mutated real attestations, only registered refusals', async ({ task }) => {
    const tally = new Tally();
    const check = async (response: RegistrationResponseJSON, expected: { challenge: string; origins: string[]; rpIds: string[]; now: number }) => {
      const started = performance.now();
      let result;
      try {
        result = await verifyRegistration(response, { ...expected, requireUserVerification: true, allowedTopOrigins: [], algorithms: [-7, -8, -257, -35, -36, -37, -65535], trust: { aaguids: [], anchors: [] }, requireTrustedAttestation: false });
      } catch (error) {
        throw new Error(`verifyRegistration threw ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
      }
      const ms = performance.now() - started;
      tally.requests++;
      tally.badInput(0, ms);
      if (ms >= BOUND_MS) throw new Error(`took ${ms.toFixed(0)} ms`);
      if (!result.ok) expect(isErrorCode(result.code)).toBe(true);
      const outcome = result.ok ? 'accepted' : result.code;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    };
    const outcomes = new Map<string, number>();
    // Keybound's own structures with every kind of hostile attestation object.
    await fc.assert(
      fc.asyncProperty(attestationRecipe, clientDataRecipe, async (recipe, cd) => {
        const { attestationObject: object, credentialId } = attestationObject(recipe);
        const id = base64url.encode(credentialId);
        const response = { id, rawId: id, type: 'public-key', response: { clientDataJSON: base64url.encode(clientData(cd, 'webauthn.create', 'AAAA')), attestationObject: base64url.encode(object) }, clientExtensionResults: {} };
        await check(response as RegistrationResponseJSON, { challenge: 'AAAA', origins: ['http://localhost:8080'], rpIds: ['localhost'], now: Date.now() });
      }),
      { numRuns: runs(2000) },
    );
    // Real attestations of every format (packed, TPM, Android, Apple, FIDO U2F, ...) with one part of
    // the statement mutated: signatures, certificates, TPM structures, the authenticator data.
    const cases = loadCases('registration').filter((c) => {
      try {
        return decodeCbor(base64url.decode(c.input.response.response.attestationObject as string)!) instanceof Map;
      } catch {
        return false;
      }
    });
    expect(cases.length).toBeGreaterThan(20);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: cases.length - 1 }), fc.nat(), byteMutation, fc.boolean(), async (index, at, mutation, swap) => {
        const c = cases[index]!;
        const object = decodeCbor(base64url.decode(c.input.response.response.attestationObject as string)!) as Map<string, CborValue>;
        const mutated = mutateStatement(object, at, mutation, swap);
        const response = structuredClone(c.input.response) as any;
        response.response.attestationObject = base64url.encode(encodeCbor(toPlain(mutated) as CborPlain));
        await check(response, {
          challenge: c.input.expected_challenge_b64url,
          origins: asList(c.input.expected_origin),
          rpIds: asList(c.input.expected_rp_id),
          now: c.input.verification_time ? Date.parse(c.input.verification_time) : Date.now(),
        });
      }),
      { numRuns: runs(1500) },
    );
    tally.notes.push([...outcomes].sort(([a], [b]) => a.localeCompare(b)).map(([code, n]) => `${n}×${code}`).join(', '));
    record(task, tally.figures());
  });
});

describe('the resource-server token verifier refuses bad tokens with its own codes', () => {
  it('JWT access tokens and DPoP proofs: hostile headers, claims, signatures and shapes', async ({ task }) => {
    const tally = new Tally();
    const issuer = 'https://id.example.test/oidc';
    const audience = 'https://api.example.test/';
    const signing = await generateKeyPair('ES256', { extractable: true });
    const dpop = await generateKeyPair('ES256', { extractable: true });
    const dpopJwk = await exportJWK(dpop.publicKey);
    const jkt = await calculateJwkThumbprint(dpopJwk);
    const verifier = createVerifier({ issuer, audience, jwks: createLocalJWKSet({ keys: [{ ...(await exportJWK(signing.publicKey)), kid: 'k1', alg: 'ES256' }] }) });
    const url = 'https://api.example.test/things';
    const codes = new Set<string | null>([null, 'invalid_request', 'invalid_token', 'insufficient_scope', 'insufficient_user_authentication', 'invalid_dpop_proof']);
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(jwtRecipe, fc.boolean(), fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: jwtRecipe }), fc.constantFrom('Bearer', 'DPoP', 'bearer', 'Basic', ''), fc.record({ acr: fc.constantFrom(undefined, 'urn:keybound:aal3', 'nonsense'), maxAgeS: fc.constantFrom(undefined, 0, 300), scopes: fc.constantFrom(undefined, ['read'], ['write', 'admin']) }, { requiredKeys: [] }), async (tokenRecipe, bound, proofRecipe, scheme, requirement) => {
        const iat = Math.floor(Date.now() / 1000);
        const token = await buildJwt(tokenRecipe, { key: signing.privateKey, header: { alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, claims: { iss: issuer, aud: audience, sub: 'someone', client_id: 'client', jti: String(Math.random()), iat, exp: iat + 60, scope: 'read', acr: 'urn:keybound:aal2:phr', auth_time: iat, ...(bound ? { cnf: { jkt } } : {}) } });
        const proof = proofRecipe ? await buildJwt(proofRecipe, { key: dpop.privateKey, header: { alg: 'ES256', typ: 'dpop+jwt', jwk: dpopJwk }, claims: { htm: 'GET', htu: url, iat, jti: String(Math.random()), ath: createHash('sha256').update(token).digest('base64url') } }) : undefined;
        const started = performance.now();
        let result;
        try {
          result = await verifier.verify({ method: 'GET', url, authorization: `${scheme} ${token}`, dpop: proof }, requirement as never);
        } catch (error) {
          throw new Error(`verify threw ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
        }
        const ms = performance.now() - started;
        tally.requests++;
        tally.badInput(result.ok ? 200 : result.status, ms);
        if (ms >= BOUND_MS) throw new Error(`took ${ms.toFixed(0)} ms`);
        if (!result.ok) {
          expect([400, 401, 403]).toContain(result.status);
          expect(codes.has(result.error)).toBe(true);
          expect(result.wwwAuthenticate).toMatch(/^(Bearer|DPoP)\b/);
        }
        const outcome = result.ok ? 'accepted' : String(result.error);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
      { numRuns: runs(2000) },
    );
    tally.notes.push([...outcomes].sort(([a], [b]) => a.localeCompare(b)).map(([code, n]) => `${n}×${code}`).join(', '));
    record(task, tally.figures());
  });
});

/** Mutates one byte string somewhere inside the attestation object (or swaps a certificate chain's order). */
function mutateStatement(object: Map<string, CborValue>, at: number, mutation: ByteMutation, swap: boolean): Map<string, CborValue> {
  const copy = structuredClone(object);
  const slots: { get(): Uint8Array; set(value: Uint8Array): void }[] = [];
  const visit = (value: CborValue, set: (v: CborValue) => void): void => {
    if (value instanceof Uint8Array) slots.push({ get: () => value, set });
    else if (Array.isArray(value)) {
      if (swap && value.length > 1 && value.every((v) => v instanceof Uint8Array)) value.reverse();
      value.forEach((v, i) => visit(v, (n) => (value[i] = n)));
    } else if (value instanceof Map) for (const [k, v] of value) visit(v, (n) => value.set(k, n));
  };
  visit(copy, () => undefined);
  const slot = slots[at % Math.max(1, slots.length)];
  if (slot) slot.set(mutateBytes(slot.get(), mutation));
  return copy;
}

/** CBOR values as plain data for comparison and re-encoding (bigints and floats do not occur in these). */
function toPlain(value: CborValue): unknown {
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, toPlain(v)]));
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Uint8Array) return new Uint8Array(value);
  return value;
}
