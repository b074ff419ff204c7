/**
 * Shared plumbing for the WebAuthn conformance suites: loading the copied vectors (test/fixtures/webauthn,
 * see its README for provenance), the table that maps the vectors' `reason` values to Keybound error
 * codes, the pinned clock, and what each case's `decoded` section says the verifier must return.
 *
 * Nothing here reads ../shared: the vectors were copied into the project's fixtures.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vi } from 'vitest';
import { base64url } from '../../src/core/bytes.ts';
import type { ErrorCode } from '../../src/core/errors.ts';
import { decodeCbor } from '../../src/webauthn/cbor.ts';

export const FIXTURES = join(import.meta.dirname, '../fixtures/webauthn');

export type ExpectedResult =
  | 'valid'
  | 'invalid'
  | 'invalid_or_flagged'
  | 'should_reject'
  | 'valid_if_alg_supported'
  | 'valid_only_if_cross_origin_allowed'
  | 'implementation_defined';

export interface VectorFlags {
  readonly UP: boolean;
  readonly UV: boolean;
  readonly BE: boolean;
  readonly BS: boolean;
  readonly AT: boolean;
  readonly ED: boolean;
}

/** The common case schema of ../shared/vectors/README.md, as far as these suites read it. */
export interface VectorCase {
  readonly id: string;
  readonly ceremony: 'registration' | 'authentication';
  readonly source: { readonly repo: string; readonly path: string; readonly commit: string; readonly license: string };
  readonly input: {
    readonly response: Record<string, unknown> & { readonly id: string; readonly rawId: string; readonly response: Record<string, unknown> };
    readonly expected_challenge_b64url: string;
    readonly expected_origin: string | readonly string[];
    readonly expected_rp_id: string | readonly string[];
    readonly require_user_verification?: boolean;
    readonly verification_time?: string | null;
    readonly allowed_top_origin?: string | null;
    readonly credential?: {
      readonly id: string;
      readonly public_key_cose_b64url: string;
      readonly stored_sign_count: number;
      readonly backup_eligible?: boolean;
    };
  };
  readonly expected: {
    readonly result: ExpectedResult;
    readonly reason?: string;
    readonly reason_if_rejected?: string;
    readonly notes: readonly string[];
    readonly lenient_x509_required?: boolean;
    readonly alg?: number;
    // W3C files carry the decoded values here rather than under `decoded`.
    readonly credential_id_b64url?: string;
    readonly credential_public_key_cose_b64url?: string;
    readonly sign_count?: number;
    readonly new_sign_count?: number;
    readonly aaguid?: string;
    readonly fmt?: string;
    readonly flags?: VectorFlags;
  };
  readonly decoded?: {
    readonly fmt?: string;
    readonly credential_id_b64url?: string;
    readonly credential_public_key_cose_b64url?: string;
    readonly credential_alg?: number;
    readonly aaguid?: string;
    readonly sign_count?: number;
    readonly flags?: VectorFlags;
  } | null;
  readonly trust_anchor_note?: string;
}

/** Every case of one fixture folder, sorted by file name so the output order is stable. */
export function loadCases(folder: string): VectorCase[] {
  const dir = join(FIXTURES, folder);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as VectorCase);
}

export function readFixture(path: string): string {
  return readFileSync(join(FIXTURES, path), 'utf8');
}

export const asList = (value: string | readonly string[]): string[] => (typeof value === 'string' ? [value] : [...value]);

/**
 * The vectors' `reason` values and the Keybound error code that must answer each. Keybound's codes
 * are coarser where one check covers several faults (every defect of an attestation statement is
 * `passkey_attestation_invalid`), and the assertion verifier only ever sees one stored credential.
 */
export const REASON_TO_CODE: Readonly<Record<string, ErrorCode>> = {
  user_not_verified: 'passkey_user_not_verified',
  user_not_present: 'passkey_user_not_present',
  signature_invalid: 'passkey_signature_invalid',
  // The verifier is handed one stored credential; an assertion made by another credential therefore
  // fails its signature check. (The passkey service looks the credential up by id first and answers
  // `passkey_unknown_credential` when the id is not registered; that lookup is not part of this path.)
  unknown_credential: 'passkey_signature_invalid',
  origin_mismatch: 'passkey_origin_mismatch',
  rp_id_hash_mismatch: 'passkey_rp_id_mismatch',
  challenge_mismatch: 'passkey_challenge_mismatch',
  // §6.1.1 leaves reject-or-flag to the RP: Keybound refuses, and the service flags the passkey.
  sign_count_not_increased: 'passkey_sign_count_regressed',
  malformed_cbor: 'passkey_malformed',
  unsupported_attestation_format: 'passkey_attestation_unsupported_format',
  safetynet_jws_signature_invalid: 'passkey_attestation_invalid',
  safetynet_cts_profile_match_false: 'passkey_attestation_invalid',
  attestation_cert_aaguid_extension_mismatch: 'passkey_attestation_invalid',
  cross_origin_not_allowed: 'passkey_cross_origin_not_allowed',
  unsupported_algorithm: 'passkey_unsupported_algorithm',
  untrusted_attestation: 'passkey_attestation_untrusted',
};

export function codeFor(reason: string | undefined, caseId: string): ErrorCode {
  const code = reason === undefined ? undefined : REASON_TO_CODE[reason];
  if (!code) throw new Error(`${caseId}: no Keybound code mapped for reason ${String(reason)}; add it to REASON_TO_CODE`);
  return code;
}

/** What a verifier run produced; a thrown exception is recorded, never let through. */
export type Outcome<T> = { readonly kind: 'accepted'; readonly value: T } | { readonly kind: 'refused'; readonly code: ErrorCode } | { readonly kind: 'threw'; readonly error: unknown };

/** What a pass expects: acceptance (optionally with a trust verdict), or refusal with one code. */
export type Expectation = { readonly accepted: true; readonly trusted?: boolean } | { readonly accepted: false; readonly code: ErrorCode };

export const accepted = (trusted?: boolean): Expectation => (trusted === undefined ? { accepted: true } : { accepted: true, trusted });
export const refused = (code: ErrorCode): Expectation => ({ accepted: false, code });

export function describeOutcome(outcome: Outcome<unknown>): string {
  if (outcome.kind === 'accepted') return 'accepted';
  if (outcome.kind === 'refused') return `refused ${outcome.code}`;
  return `threw ${outcome.error instanceof Error ? `${outcome.error.name}: ${outcome.error.message}` : String(outcome.error)}`;
}

export function describeExpectation(expectation: Expectation): string {
  return expectation.accepted ? 'accepted' : `refused ${expectation.code}`;
}

/**
 * Where the vectors' README expects acceptance but Keybound refuses, the case is listed with the code
 * it actually answers and why. The suites assert that code, so a change in either direction shows.
 */
export interface KnownDeviation {
  readonly refusedWith: ErrorCode;
  readonly reason: string;
}

/**
 * Cases whose `verification_time` is null ("none needed: x5c currently valid at collection time") are
 * pinned to the collection date of the vectors (the W3C commit they were taken at), so that the suite
 * does not start failing when those certificates expire.
 */
export const COLLECTION_TIME = '2026-07-30T00:00:00Z';

export function caseTime(c: VectorCase): string {
  return c.input.verification_time ?? COLLECTION_TIME;
}

/**
 * Runs `fn` with `Date` pinned to `iso` (SimpleWebAuthn reads `new Date()` for certificate validity and
 * SafetyNet freshness); the real clock is restored afterwards whatever happens.
 */
export async function atTime<T>(iso: string, fn: (now: number) => Promise<T> | T): Promise<T> {
  const now = Date.parse(iso);
  if (Number.isNaN(now)) throw new Error(`not a time: ${iso}`);
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(now);
  try {
    return await fn(now);
  } finally {
    vi.useRealTimers();
  }
}

/** The values a successful verification must reproduce, from `decoded` (real cases) or `expected` (W3C). */
export function decodedValues(c: VectorCase): {
  credentialId?: string;
  publicKey?: string;
  signCount?: number;
  alg?: number;
  aaguid?: string;
  fmt?: string;
  flags?: VectorFlags;
} {
  const d = c.decoded ?? {};
  const e = c.expected;
  const pick = <T>(...values: (T | undefined | null)[]): T | undefined => values.find((v) => v !== undefined && v !== null) ?? undefined;
  const publicKey = pick(d.credential_public_key_cose_b64url, e.credential_public_key_cose_b64url);
  const out: ReturnType<typeof decodedValues> = {};
  const credentialId = pick(d.credential_id_b64url, e.credential_id_b64url);
  if (credentialId !== undefined) out.credentialId = credentialId;
  if (publicKey !== undefined) out.publicKey = publicKey;
  const signCount = pick(d.sign_count, e.new_sign_count, e.sign_count);
  if (signCount !== undefined) out.signCount = signCount;
  const storedKey = c.input.credential?.public_key_cose_b64url;
  const alg = pick(d.credential_alg, e.alg, publicKey ? coseAlg(publicKey) : undefined, storedKey ? coseAlg(storedKey) : undefined);
  if (alg !== undefined) out.alg = alg;
  const aaguid = pick(d.aaguid, e.aaguid);
  if (aaguid !== undefined) out.aaguid = aaguid;
  const fmt = pick(d.fmt, e.fmt);
  if (fmt !== undefined) out.fmt = fmt;
  const flags = pick(d.flags, e.flags);
  if (flags !== undefined) out.flags = flags;
  return out;
}

/** The `alg` (label 3) of a COSE key given in base64url. */
export function coseAlg(coseB64: string): number | undefined {
  const bytes = base64url.decode(coseB64);
  if (!bytes) return undefined;
  const map = decodeCbor(bytes);
  const alg = map instanceof Map ? map.get(3) : undefined;
  return typeof alg === 'number' ? alg : undefined;
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
