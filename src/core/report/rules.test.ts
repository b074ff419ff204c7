/**
 * The standards report's rules (issue 16), table-driven: from one set of facts (a strict
 * installation), each row changes one fact and names the status one control must then have.
 */
import { describe, expect, it } from 'vitest';
import { evaluateReport, FRAMEWORKS, reportJson } from './evaluate.ts';
import { reportMarkdown } from './markdown.ts';
import type { ReportFacts, RoleFacts } from './model.ts';

const role = (r: 'admin' | 'member', over: Partial<RoleFacts> = {}): RoleFacts => ({
  role: r,
  signInCodeFactors: [],
  minAal: 2,
  allowSyncedPasskeys: r === 'member',
  recovery: { enabled: true, proofs: ['totp'] },
  requiredAcr: 'urn:keybound:aal2',
  recoveryDelayMs: 3_600_000,
  accounts: 10,
  belowRequired: 0,
  holders: { passkey_device_bound: 10 },
  ...over,
});

const STRICT: ReportFacts = {
  generatedAt: Date.UTC(2026, 11, 6),
  roles: [role('admin'), role('member')],
  delivery: { sms: 'none', email: true },
  passkeys: { attestation: 'direct', active: 20, trusted: 20, withoutUv: 0 },
  codes: { ttlMs: 600_000, digits: 6, maxFailures: 100, freeAttempts: 5, delayBaseMs: 1000, delayMaxMs: 900_000, maxSends: 5 },
  rateLimits: { ceremonyMax: 60, oidcAuthMax: 60 },
  sessions: { limits: { 1: { idleMs: 86_400_000, maxMs: 2_592_000_000 }, 2: { idleMs: 3_600_000, maxMs: 86_400_000 }, 3: { idleMs: 900_000, maxMs: 43_200_000 } }, maxPerAccount: 20, freshAuthMaxAgeMs: 300_000 },
  oidc: { accessTokenTtlS: 300, refreshTokenTtlS: 86_400, allowSharedSecrets: false, signingAlg: 'ES256' },
  accounts: { active: 20, withoutPasskey: 0, activeAdmins: 2, adminsOnlySyncable: 0, adminsIdle: 0, idleDays: 90, endedWithLiveSessions: 0 },
  signIns: { days: 30, total: 100, phishingResistant: 100 },
  audit: { verifies: true, checked: 500, problem: null },
  metrics: { tokenOnMainListener: false, listenerPort: 9464, listenerHost: '127.0.0.1' },
  transport: { secureCookies: true, publicUrl: 'https://id.example.com' },
  nhi: { workloads: 3, apiKeys: 2, orphaned: 0, stale: 0, unrotated: 0, expiring: 0, longLived: 0, apiKeyMaxTtlMs: 90 * 86_400_000, staleDays: 90, rotateDays: 90, onOwnerOffboard: 'disable', apiKeyEnv: 'live' },
  streams: { enabled: 1 },
};

type Change = (f: ReportFacts) => ReportFacts;
const roles = (f: ReportFacts, r: 'admin' | 'member', over: Partial<RoleFacts>): ReportFacts => ({ ...f, roles: f.roles.map((x) => (x.role === r ? { ...x, ...over } : x)) });
const status = (facts: ReportFacts, id: string) => evaluateReport(facts).frameworks.flatMap((f) => f.controls).find((c) => c.id === id)?.status;

const CASES: [string, string, Change, string][] = [
  ['63B-AAL', 'strict', (f) => f, 'met'],
  ['63B-AAL', 'members may sign in at AAL1', (f) => roles(f, 'member', { minAal: 1, signInCodeFactors: ['totp'] }), 'partial'],
  ['63B-AAL', 'admins may sign in at AAL1', (f) => roles(f, 'admin', { minAal: 1 }), 'not_met'],
  ['63B-AAL-ACCOUNTS', 'a member below', (f) => roles(f, 'member', { belowRequired: 1 }), 'partial'],
  ['63B-AAL-ACCOUNTS', 'an admin below', (f) => roles(f, 'admin', { belowRequired: 1 }), 'not_met'],
  ['63B-AAL3-NONEXPORTABLE', 'strict', (f) => f, 'met'],
  ['63B-AAL3-NONEXPORTABLE', 'admins hold only syncable passkeys', (f) => ({ ...f, accounts: { ...f.accounts, adminsOnlySyncable: 1 } }), 'partial'],
  ['63B-AAL3-NONEXPORTABLE', 'syncable allowed for admins', (f) => roles(f, 'admin', { allowSyncedPasskeys: true }), 'partial'],
  ['63B-AAL3-NONEXPORTABLE', 'allowed and used', (f) => roles({ ...f, accounts: { ...f.accounts, adminsOnlySyncable: 2 } }, 'admin', { allowSyncedPasskeys: true }), 'not_met'],
  ['63B-UV', 'a passkey without UV', (f) => ({ ...f, passkeys: { ...f.passkeys, withoutUv: 1 } }), 'not_met'],
  ['63B-UV', 'no passkeys', (f) => ({ ...f, passkeys: { ...f.passkeys, active: 0, trusted: 0 } }), 'not_applicable'],
  ['63B-RESTRICTED-SMS', 'strict', (f) => f, 'met'],
  ['63B-RESTRICTED-SMS', 'SMS sign-in for members', (f) => roles(f, 'member', { signInCodeFactors: ['sms'], minAal: 1 }), 'partial'],
  ['63B-RESTRICTED-SMS', 'SMS as an admin recovery proof', (f) => roles(f, 'admin', { recovery: { enabled: true, proofs: ['totp', 'sms'] } }), 'not_met'],
  ['63B-RESTRICTED-SMS', 'SMS factors left from before', (f) => roles(f, 'member', { holders: { sms_code: 3 } }), 'partial'],
  ['63B-EMAIL', 'email sign-in', (f) => roles(f, 'member', { signInCodeFactors: ['email'], minAal: 1 }), 'not_met'],
  ['63B-EMAIL', 'email as recovery proof', (f) => roles(f, 'member', { recovery: { enabled: true, proofs: ['email'] } }), 'partial'],
  ['63B-OOB-CODES', 'five digits', (f) => ({ ...f, codes: { ...f.codes, digits: 5 } }), 'not_met'],
  ['63B-THROTTLE', 'strict', (f) => f, 'met'],
  ['63B-THROTTLE', 'no ceremony limit', (f) => ({ ...f, rateLimits: { ...f.rateLimits, ceremonyMax: 0 } }), 'partial'],
  ['63B-THROTTLE', 'more than 100 failures', (f) => ({ ...f, codes: { ...f.codes, maxFailures: 101 } }), 'not_met'],
  ['63B-REAUTH', 'AAL2 sessions of 25 h', (f) => ({ ...f, sessions: { ...f.sessions, limits: { ...f.sessions.limits, 2: { idleMs: 3_600_000, maxMs: 25 * 3_600_000 } } } }), 'not_met'],
  ['63B-RECOVERY', 'strict', (f) => f, 'met'],
  ['63B-RECOVERY', 'AAL2 role recovers with one code', (f) => roles(f, 'admin', { recovery: { enabled: true, proofs: [] } }), 'not_met'],
  ['63B-RECOVERY', 'no email for notices', (f) => ({ ...f, delivery: { ...f.delivery, email: false } }), 'partial'],
  ['63B-ATTESTATION', 'any model', (f) => ({ ...f, passkeys: { ...f.passkeys, attestation: 'none' } }), 'partial'],
  ['PR.AA-01', 'orphaned machine', (f) => ({ ...f, nhi: { ...f.nhi, orphaned: 1 } }), 'partial'],
  ['PR.AA-02', 'one admin', (f) => ({ ...f, accounts: { ...f.accounts, activeAdmins: 1 } }), 'partial'],
  ['PR.AA-03', 'strict', (f) => f, 'met'],
  ['PR.AA-03', 'a phishable sign-in', (f) => ({ ...f, signIns: { ...f.signIns, phishingResistant: 99 } }), 'partial'],
  ['PR.AA-03', 'shared secrets', (f) => ({ ...f, oidc: { ...f.oidc, allowSharedSecrets: true } }), 'partial'],
  ['PR.AA-05', 'idle admin', (f) => ({ ...f, accounts: { ...f.accounts, adminsIdle: 1 } }), 'partial'],
  ['PR.AA-06', 'strict', (f) => f, 'not_applicable'],
  ['DE.CM-03', 'trail broken', (f) => ({ ...f, audit: { verifies: false, checked: 4, problem: 'event 5 is missing' } }), 'not_met'],
  ['DE.CM-09', 'metrics listener on all addresses', (f) => ({ ...f, metrics: { ...f.metrics, listenerHost: '0.0.0.0' } }), 'partial'],
  ['RS.MI-01', 'offboarded with a live session', (f) => ({ ...f, accounts: { ...f.accounts, endedWithLiveSessions: 1 } }), 'not_met'],
  ['RS.CO-02', 'no streams', (f) => ({ ...f, streams: { enabled: 0 } }), 'partial'],
  ['ZT-2', 'plain HTTP', (f) => ({ ...f, transport: { secureCookies: false, publicUrl: 'http://localhost:8080' } }), 'partial'],
  ['ZT-3', 'no session cap', (f) => ({ ...f, sessions: { ...f.sessions, maxPerAccount: 0 } }), 'partial'],
  ['ZT-7', 'trail broken', (f) => ({ ...f, audit: { verifies: false, checked: 4, problem: 'x' } }), 'not_met'],
  ['NHI1', 'orphaned', (f) => ({ ...f, nhi: { ...f.nhi, orphaned: 2 } }), 'not_met'],
  ['NHI4', 'shared secrets', (f) => ({ ...f, oidc: { ...f.oidc, allowSharedSecrets: true } }), 'not_met'],
  ['NHI5', 'stale', (f) => ({ ...f, nhi: { ...f.nhi, stale: 1 } }), 'partial'],
  ['NHI7', 'strict', (f) => f, 'met'],
  ['NHI7', 'unrotated', (f) => ({ ...f, nhi: { ...f.nhi, unrotated: 1 } }), 'partial'],
  ['NHI7', 'over-long key', (f) => ({ ...f, nhi: { ...f.nhi, longLived: 1 } }), 'not_met'],
  ['NHI9', 'no machines', (f) => ({ ...f, nhi: { ...f.nhi, workloads: 0, apiKeys: 0 } }), 'not_applicable'],
];

describe('standards report rules', () => {
  it.each(CASES)('%s, %s: %s', (id, _what, change, expected) => {
    expect(status(change(STRICT), id)).toBe(expected);
  });

  it('every control has a unique id, a title, and something that changes it', () => {
    const ids = FRAMEWORKS.flatMap((f) => f.rules.map((r) => r.id));
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of FRAMEWORKS.flatMap((f) => f.rules)) {
      expect(r.title.length).toBeGreaterThan(10);
      expect(r.changeWith.docs).toMatch(/^docs\//);
    }
    expect(FRAMEWORKS.find((f) => f.id === 'nist-csf-2.0')!.rules.map((r) => r.id).filter((id) => id.startsWith('PR.AA'))).toEqual(['PR.AA-01', 'PR.AA-02', 'PR.AA-03', 'PR.AA-04', 'PR.AA-05', 'PR.AA-06']);
    expect(FRAMEWORKS.find((f) => f.id === 'nist-sp-800-207')!.rules).toHaveLength(7);
    expect(FRAMEWORKS.find((f) => f.id === 'owasp-nhi-top-10')!.rules).toHaveLength(10);
  });

  it('nothing is met whatever the facts: a weak installation meets fewer controls than a strict one', () => {
    const weak: ReportFacts = roles(roles({ ...STRICT, audit: { verifies: false, checked: 0, problem: 'x' }, oidc: { ...STRICT.oidc, allowSharedSecrets: true }, nhi: { ...STRICT.nhi, orphaned: 1, stale: 1, longLived: 1 } }, 'admin', { minAal: 1, allowSyncedPasskeys: true, belowRequired: 2 }), 'member', { signInCodeFactors: ['sms', 'email'], minAal: 1 });
    const met = (f: ReportFacts) => evaluateReport(f).frameworks.flatMap((x) => x.controls).filter((c) => c.status === 'met').length;
    expect(met(weak)).toBeLessThan(met(STRICT) - 15);
  });

  it('JSON: the exact shape, the change-with line last; Markdown: a table per framework', () => {
    const report = evaluateReport(STRICT);
    const json = reportJson(report);
    expect(json.generatedAt).toBe('2026-12-06T00:00:00.000Z');
    const control = json.frameworks[0]!.controls.find((c) => c.id === '63B-RESTRICTED-SMS')!;
    expect(Object.keys(control)).toEqual(['id', 'title', 'status', 'evidence']);
    expect(control.evidence.at(-1)).toBe('Change with: KEYBOUND_<ROLE>_CODE_FACTORS, KEYBOUND_<ROLE>_RECOVERY, KEYBOUND_SMS_PROVIDER, docs/report.md#nist-sp-800-63b-4-restricted');
    const md = reportMarkdown(report);
    expect(md.match(/^## /gm)).toHaveLength(4);
    expect(md).toContain('| 63B-RESTRICTED-SMS Text-message codes');
  });
});
