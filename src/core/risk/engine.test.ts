import { describe, expect, it } from 'vitest';
import { ACR } from '../assurance/level.ts';
import { combine, evaluate, joinRequirements, meets, type Check, type CheckResult } from './engine.ts';
import { FRESH_CHECKS, ROLE_CHECKS, type FreshInput } from './checks.ts';
import { AUTHORIZE_CHECK, loginRequirement } from '../../oidc/requirements.ts';

const PHR = ACR.aal2PhishingResistant;

describe('combine', () => {
  const cases: [string, CheckResult[], { decision: string; reasons: string[]; requires?: unknown }][] = [
    ['nothing unmet allows', ['satisfied', 'satisfied'], { decision: 'allow', reasons: [] }],
    ['one step-up', ['satisfied', { requires: { acr: PHR, maxAge: 600 }, reason: 'privileged_action' }], { decision: 'step_up', reasons: ['privileged_action'], requires: { acr: PHR, maxAge: 600 } }],
    [
      'step-ups join: stronger level, shorter age',
      [{ requires: { acr: ACR.aal3, maxAge: 600 }, reason: 'a' }, { requires: { acr: PHR, maxAge: 60 }, reason: 'b' }],
      { decision: 'step_up', reasons: ['a', 'b'], requires: { acr: ACR.aal3, maxAge: 60 } },
    ],
    ['a deny wins and every reason stays', [{ requires: { acr: PHR, maxAge: 0 }, reason: 'a' }, { requires: 'deny', reason: 'b' }], { decision: 'deny', reasons: ['a', 'b'], requires: null }],
    ['repeated reasons once', [{ requires: 'deny', reason: 'a' }, { requires: 'deny', reason: 'a' }], { decision: 'deny', reasons: ['a'] }],
  ];
  it.each(cases)('%s', (_, results, expected) => {
    const decision = combine(results);
    expect(decision.decision).toBe(expected.decision);
    expect(decision.reasons).toEqual(expected.reasons);
    if ('requires' in expected) expect(decision.requires).toEqual(expected.requires);
  });

  it('evaluate runs every check, not only until the first unmet', () => {
    const ran: string[] = [];
    const check = (name: string, result: CheckResult): Check<null> => ({ name, run: () => (ran.push(name), result) });
    const d = evaluate([check('x', { requires: 'deny', reason: 'x' }), check('y', 'satisfied'), check('z', { requires: 'deny', reason: 'z' })], null);
    expect(ran).toEqual(['x', 'y', 'z']);
    expect(d.reasons).toEqual(['x', 'z']);
  });

  it('joins and meets requirements', () => {
    expect(joinRequirements(null, { acr: null, maxAge: 5 })).toEqual({ acr: null, maxAge: 5 });
    expect(meets({ acr: PHR, authTime: 0 }, { acr: PHR, maxAge: 10 }, 10_000)).toBe(true);
    expect(meets({ acr: PHR, authTime: 0 }, { acr: PHR, maxAge: 10 }, 10_001)).toBe(false);
    expect(meets({ acr: ACR.aal1, authTime: 0 }, { acr: PHR, maxAge: null }, 0)).toBe(false);
    expect(meets(null, { acr: null, maxAge: null }, 0)).toBe(false);
    // max_age 0: only the authentication being made now meets it, even in the same millisecond.
    expect(meets({ acr: PHR, authTime: 5 }, { acr: null, maxAge: 0 }, 5)).toBe(false);
    expect(meets({ acr: PHR, authTime: 5 }, { acr: null, maxAge: 0 }, 5, true)).toBe(true);
  });
});

describe('role checks (were in completeSignIn)', () => {
  const member = { allowSyncedPasskeys: true, codeFactors: ['totp'] as const, minAal: 1 as const, recovery: { enabled: true, proofs: [] } };
  const admin = { allowSyncedPasskeys: false, codeFactors: [] as const, minAal: 2 as const, recovery: { enabled: false, proofs: [] } };
  const synced = { kind: 'passkey' as const, userPresent: true, userVerified: true, backupEligible: true, attestationTrusted: false };
  const totp = { kind: 'totp' as const };
  const cases = [
    ['member, synced passkey', member, [synced], 2, []],
    ['member, totp', member, [totp], 1, []],
    ['admin, synced passkey', admin, [synced], 2, ['passkey_synced_not_allowed']],
    ['admin, totp: both the factor and the level', admin, [totp], 1, ['factor_not_allowed']],
  ] as const;
  it.each(cases)('%s', (_, policy, factors, aal, reasons) => {
    expect(evaluate(ROLE_CHECKS, { policy, factors, aal }).reasons).toEqual(reasons);
  });
});

describe('freshness checks (were services/freshness.ts)', () => {
  const base: FreshInput = { session: { passkeyId: 'pk', aal: 2, authTime: 0 }, passkeyActive: true, now: 60_000, maxAgeMs: 300_000 };
  const cases: [string, Partial<FreshInput>, string[]][] = [
    ['fresh passkey session', {}, []],
    ['code session', { session: { passkeyId: null, aal: 1, authTime: 0 } }, ['passkey_required']],
    ['too old', { now: 300_001 }, ['max_age']],
    ['below the level asked', { minAal: 3 }, ['acr_unmet']],
    ['passkey flagged since, and too old: both reasons', { passkeyActive: false, now: 400_000 }, ['max_age', 'passkey_unusable']],
  ];
  it.each(cases)('%s', (_, change, reasons) => {
    const d = evaluate(FRESH_CHECKS, { ...base, ...change });
    expect(d.reasons).toEqual(reasons);
    if (reasons.length > 0) expect(d.requires).toEqual({ acr: change.minAal === 3 ? ACR.aal3 : PHR, maxAge: 300 });
  });
});

describe('authorization request check (oidc unmetBy)', () => {
  const session = { acr: ACR.aal2, authTime: 0 };
  const cases: [string, Record<string, unknown>, string[], string][] = [
    ['nothing asked', {}, [], 'allow'],
    ['acr and max_age both unmet', { acr_values: PHR, max_age: 10 }, ['max_age', 'acr_unmet'], 'step_up'],
    ['prompt=login', { prompt: 'login' }, ['fresh_requested'], 'step_up'],
    ['essential unknown acr', { claims: { id_token: { acr: { essential: true, values: ['x'] } } } }, ['acr_unreachable'], 'deny'],
  ];
  it.each(cases)('%s', (_, params, reasons, decision) => {
    const d = evaluate([AUTHORIZE_CHECK], { session, requirement: loginRequirement(params), now: 60_000 });
    expect(d.reasons).toEqual(reasons);
    expect(d.decision).toBe(decision);
  });
});
