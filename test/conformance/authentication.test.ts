/**
 * Conformance, authentication: every assertion vector in test/fixtures/webauthn (W3C WebAuthn L3 §16
 * test vectors and real assertions captured by SimpleWebAuthn and py_webauthn, each with the stored
 * credential it verifies against) is run through Keybound's own path, as the passkey service runs it:
 * `decodeAssertion`, the stored COSE key imported with `importCoseKey` (a key that cannot be imported
 * is `passkey_unsupported_algorithm`, as in services/passkeys/authentication.ts), then `verifyAssertion`.
 *
 * - `valid` cases are accepted, and the new sign count and flags are those of the authenticator data;
 * - `invalid` cases are refused with the code mapped from their `reason` (REASON_TO_CODE);
 * - `invalid_or_flagged` counter cases are refused with `passkey_sign_count_regressed` (the service
 *   then flags the passkey);
 * - `valid_if_alg_supported` (ML-DSA) is refused with `passkey_unsupported_algorithm`: node:crypto on
 *   Node 20 has no ML-DSA, and cose.ts does not list it;
 * - `valid_only_if_cross_origin_allowed` is refused with no allowed top origins and accepted when the
 *   top origin is allowed;
 * - with user verification required (Keybound's default policy), UV=0 assertions are refused;
 * - nothing may throw.
 *
 * Assertions read no clock, so none is pinned here.
 *
 * KEYBOUND_CONFORMANCE_LOG=1 prints every pass of every case with its outcome and the README's expectation.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { base64url } from '../../src/core/bytes.ts';
import { decodeAssertion, verifyAssertion, type AssertionResponse, type VerifiedAssertion } from '../../src/webauthn/assertion.ts';
import { MAX_CREDENTIAL_ID_BYTES } from '../../src/webauthn/authenticatorData.ts';
import { COSE_ALG, CoseKeyError, importCoseKey, type PublicKey } from '../../src/webauthn/cose.ts';
import {
  accepted,
  asList,
  codeFor,
  decodedValues,
  describeExpectation,
  describeOutcome,
  loadCases,
  refused,
  type Expectation,
  type KnownDeviation,
  type Outcome,
  type VectorCase,
} from './vectors.ts';

/** Algorithms Keybound can verify for a stored credential (cose.ts), whatever registration offers today. */
const VERIFIABLE_ALGORITHMS: readonly number[] = Object.values(COSE_ALG);

/** Cases the README expects to be accepted that Keybound refuses: the code it answers, and why. */
const KNOWN_DEVIATIONS: Record<string, KnownDeviation> = {
  'w3c-none-es256-crossOrigin-authentication': {
    refusedWith: 'passkey_cross_origin_not_allowed',
    reason:
      'In the cross-origin-allowed pass only. clientDataJSON has crossOrigin=true but no topOrigin. Keybound allows cross-origin use only when the client names a top-level origin on its allow-list (KEYBOUND_ALLOWED_TOP_ORIGINS; an L3 client sets topOrigin whenever crossOrigin is true, §5.8.1), so a claim it cannot match is refused. The spec leaves "expects" to the RP, and this check is not weakened to make the vector pass. With no allow-list it is refused as the README expects.',
  },
  'swa-auth-es256-localhost-json-challenge': {
    refusedWith: 'passkey_malformed',
    reason:
      'The response\'s userHandle is the library test\'s placeholder "internalUserId", which is not canonical base64url: its last character carries stray low bits (it decodes to 10 bytes that re-encode as "internalUserIQ"). Keybound\'s decoder refuses non-canonical base64url (src/core/bytes.ts); a browser never produces it. The userHandle is not covered by the signature: with it left out, the same assertion verifies (checked below).',
  },
};

/** Evidence for a deviation: the same response with one unsigned field changed must verify. */
const DEVIATION_EVIDENCE: Record<string, { readonly change: string; readonly response: (r: AssertionResponse) => AssertionResponse }> = {
  'swa-auth-es256-localhost-json-challenge': {
    change: 'userHandle left out',
    response: (r) => {
      const { userHandle: _unused, ...rest } = r.response;
      return { ...r, response: rest };
    },
  },
};

type PassName = 'policy' | 'cross-origin allowed' | 'uv required' | 'deviation evidence';

interface Pass {
  readonly name: PassName;
  readonly allowedTopOrigins: readonly string[];
  readonly requireUserVerification: boolean;
  readonly response: AssertionResponse;
  readonly expect: Expectation;
  readonly deviationApplies: boolean;
}

function authenticate(c: VectorCase, pass: Pass): Outcome<VerifiedAssertion> {
  const credential = c.input.credential;
  if (!credential) throw new Error(`${c.id}: authentication case without a stored credential`);
  try {
    const decoded = decodeAssertion(pass.response);
    if (!decoded.ok) return { kind: 'refused', code: decoded.code };
    let publicKey: PublicKey;
    try {
      publicKey = importCoseKey(base64url.decode(credential.public_key_cose_b64url)!);
    } catch (error) {
      // As services/passkeys/authentication.ts: a stored key that cannot be imported cannot be used.
      if (error instanceof CoseKeyError) return { kind: 'refused', code: 'passkey_unsupported_algorithm' };
      throw error;
    }
    const result = verifyAssertion(
      decoded.value,
      { publicKey, signCount: credential.stored_sign_count, backupEligible: credential.backup_eligible },
      {
        challenge: c.input.expected_challenge_b64url,
        origins: asList(c.input.expected_origin),
        rpIds: asList(c.input.expected_rp_id),
        requireUserVerification: pass.requireUserVerification,
        allowedTopOrigins: pass.allowedTopOrigins,
      },
    );
    return result.ok ? { kind: 'accepted', value: result.value } : { kind: 'refused', code: result.code };
  } catch (error) {
    return { kind: 'threw', error };
  }
}

function readmeExpectation(c: VectorCase, options: { crossOriginAllowed: boolean }): Expectation {
  const alg = decodedValues(c).alg;
  const acceptIfVerifiable = (): Expectation => {
    if (alg === undefined) throw new Error(`${c.id}: no credential algorithm in the fixture`);
    return VERIFIABLE_ALGORITHMS.includes(alg) ? accepted() : refused('passkey_unsupported_algorithm');
  };
  switch (c.expected.result) {
    case 'valid':
    case 'valid_if_alg_supported':
      return acceptIfVerifiable();
    case 'valid_only_if_cross_origin_allowed':
      return options.crossOriginAllowed ? acceptIfVerifiable() : refused(codeFor(c.expected.reason_if_rejected, c.id));
    case 'invalid':
    case 'invalid_or_flagged':
    case 'should_reject':
      return refused(codeFor(c.expected.reason, c.id));
    case 'implementation_defined':
      throw new Error(`${c.id}: implementation_defined authentication case, decide Keybound's policy here`);
  }
}

function passesFor(c: VectorCase): Pass[] {
  const response = c.input.response as unknown as AssertionResponse;
  const base = {
    allowedTopOrigins: [] as readonly string[],
    requireUserVerification: c.input.require_user_verification ?? false,
    response,
    deviationApplies: true,
  };
  const policy = readmeExpectation(c, { crossOriginAllowed: false });
  const passes: Pass[] = [{ ...base, name: 'policy', expect: policy }];
  if (c.expected.result === 'valid_only_if_cross_origin_allowed') {
    passes.push({ ...base, name: 'cross-origin allowed', allowedTopOrigins: [c.input.allowed_top_origin ?? 'https://example.com'], expect: readmeExpectation(c, { crossOriginAllowed: true }) });
  }
  const flags = decodedValues(c).flags;
  if (policy.accepted && !base.requireUserVerification && flags) {
    passes.push({ ...base, name: 'uv required', requireUserVerification: true, expect: flags.UV ? policy : refused('passkey_user_not_verified') });
  }
  const evidence = DEVIATION_EVIDENCE[c.id];
  if (evidence) passes.push({ ...base, name: 'deviation evidence', response: evidence.response(response), expect: policy, deviationApplies: false });
  return passes;
}

function checkAssertion(c: VectorCase, value: VerifiedAssertion, pass: Pass): string[] {
  const problems: string[] = [];
  const want = decodedValues(c);
  const check = (what: string, actual: unknown, expected: unknown): void => {
    if (expected !== undefined && actual !== expected) problems.push(`${pass.name}: ${what} is ${String(actual)}, expected ${String(expected)}`);
  };
  check('new sign count', value.newSignCount, want.signCount);
  const flags = value.authenticatorData.flags;
  if (want.flags) {
    check('UP', flags.up, want.flags.UP);
    check('UV', flags.uv, want.flags.UV);
    check('BE', flags.be, want.flags.BE);
    check('BS', flags.bs, want.flags.BS);
    check('AT', flags.at, want.flags.AT);
    check('ED', flags.ed, want.flags.ED);
  }
  return problems;
}

const summary = { cases: 0, accepted: 0, refusedAsExpected: 0, refusedByPolicy: 0, deviations: 0 };
const exercisedDeviations = new Set<string>();
const caseIds = new Set<string>();

function runCase(c: VectorCase): void {
  caseIds.add(c.id);
  summary.cases++;
  const problems: string[] = [];
  const credential = c.input.credential!;
  // The stored credential is the one the response names, except where the case is about a different
  // credential (`unknown_credential`): the service would not find it; the verifier sees a bad signature.
  if (c.expected.reason === 'unknown_credential') expect(c.input.response.id).not.toBe(credential.id);
  else expect(c.input.response.id).toBe(credential.id);
  // No truncation of long credential ids on the way in (the 1023-byte W3C case).
  const decoded = decodeAssertion(c.input.response as unknown as AssertionResponse);
  if (decoded.ok) {
    expect(base64url.encode(decoded.value.credentialId)).toBe(c.input.response.rawId);
    if (c.id.includes('long-credential-id')) {
      expect(decoded.value.credentialId.byteLength).toBe(MAX_CREDENTIAL_ID_BYTES);
      expect(base64url.encode(decoded.value.credentialId)).toBe(credential.id);
    }
  }
  for (const pass of passesFor(c)) {
    const outcome = authenticate(c, pass);
    if (process.env['KEYBOUND_CONFORMANCE_LOG']) console.info(`${c.id} [${pass.name}] ${describeOutcome(outcome)}; README: ${describeExpectation(pass.expect)}`);
    const deviation = pass.deviationApplies && pass.expect.accepted ? KNOWN_DEVIATIONS[c.id] : undefined;
    let expected = pass.expect;
    if (deviation) {
      exercisedDeviations.add(c.id);
      expected = refused(deviation.refusedWith);
    }
    if (outcome.kind === 'threw') {
      problems.push(`${pass.name}: ${describeOutcome(outcome)}`);
    } else if (outcome.kind === 'accepted') {
      if (!expected.accepted) problems.push(`${pass.name}: accepted, expected ${describeExpectation(expected)}`);
      else problems.push(...checkAssertion(c, outcome.value, pass));
    } else if (expected.accepted || expected.code !== outcome.code) {
      problems.push(`${pass.name}: ${describeOutcome(outcome)}, expected ${describeExpectation(expected)}`);
    }
    if (pass.name === 'policy') {
      if (deviation) summary.deviations++;
      else if (outcome.kind === 'accepted') summary.accepted++;
      else if (c.expected.result.startsWith('valid')) summary.refusedByPolicy++;
      else summary.refusedAsExpected++;
    }
  }
  expect(problems, `${c.id} (${c.expected.result}${c.expected.reason ? `: ${c.expected.reason}` : ''})`).toEqual([]);
}

describe('conformance: W3C WebAuthn L3 §16 authentication vectors', () => {
  for (const c of loadCases('w3c-spec/authentication')) it(c.id, () => runCase(c));
});

describe('conformance: real assertions (SimpleWebAuthn, py_webauthn)', () => {
  for (const c of loadCases('authentication')) it(c.id, () => runCase(c));
});

describe('conformance: authentication bookkeeping', () => {
  it('has a case behind every known deviation, and each deviation was met', () => {
    for (const id of [...Object.keys(KNOWN_DEVIATIONS), ...Object.keys(DEVIATION_EVIDENCE)]) expect(caseIds.has(id), `${id} names no authentication case`).toBe(true);
    expect([...exercisedDeviations].sort()).toEqual(Object.keys(KNOWN_DEVIATIONS).sort());
  });

  it('maps every reason the authentication vectors use', () => {
    const reasons = [...loadCases('w3c-spec/authentication'), ...loadCases('authentication')]
      .flatMap((c) => [c.expected.reason, c.expected.reason_if_rejected])
      .filter((r): r is string => r !== undefined);
    for (const reason of reasons) expect(() => codeFor(reason, reason)).not.toThrow();
  });
});

afterAll(() => {
  if (summary.cases > 0) {
    console.info(
      `authentication conformance: ${summary.cases} cases; policy pass: ${summary.accepted} accepted, ${summary.refusedAsExpected} invalid cases refused with the mapped code, ` +
        `${summary.refusedByPolicy} valid cases refused by policy (algorithm not verifiable, or cross-origin not allowed), ${summary.deviations} known deviations`,
    );
  }
});
