import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACR, type Acr } from '../assurance/level.ts';
import type { RolePolicy } from '../policy.ts';
import { analyseAccount, effectiveAcr } from './analyse.ts';
import { CAPABILITIES } from './capabilities.ts';
import type { AccountFacts, AssistedRecoverySettings, CodeFactorFact, LinkFact, PasskeyFact, RolePathPolicy } from './model.ts';
import { acrBelow } from './levels.ts';
import { minimalSets, type CapabilitySet } from './sets.ts';

/** Expected sets as written in the table, in the canonical order reports use. */
const canon = (table: Record<string, string[][]>) => Object.fromEntries(Object.entries(table).map(([id, sets]) => [id, minimalSets(sets as CapabilitySet[])]));

const bound = (id: string, p: Partial<PasskeyFact> = {}): PasskeyFact => ({ id, nickname: id, backupEligible: false, userVerified: true, attestationTrusted: false, ...p });
const synced = (id: string) => bound(id, { backupEligible: true });
const trusted = (id: string) => bound(id, { attestationTrusted: true });
const code = (factor: CodeFactorFact['factor']): CodeFactorFact => ({ factor, destination: factor === 'totp' ? null : factor === 'sms' ? '+441234567890' : 'a@example.test' });

function facts(p: Partial<AccountFacts> = {}): AccountFacts {
  return { username: 'alice', role: 'member', status: 'active', passkeys: [], codeFactors: [], recoveryCodes: 0, links: [], noticeChannel: true, ...p };
}
const noAssist: AssistedRecoverySettings = { enabled: false, delayMs: 0, activeAdmins: 0 };
function role(p: Partial<RolePolicy> = {}, extra: Partial<RolePathPolicy> = {}): RolePathPolicy {
  const policy: RolePolicy = { allowSyncedPasskeys: true, codeFactors: [], minAal: 2, recovery: { enabled: true, proofs: ['totp'] }, ...p };
  return { policy, requiredAcr: policy.minAal === 1 ? ACR.aal1 : ACR.aal2, assisted: noAssist, ...extra };
}
const aal1Member = (factors: RolePolicy['codeFactors'], recovery: RolePolicy['recovery'] = { enabled: true, proofs: [] }) => role({ minAal: 1, codeFactors: factors, recovery });

interface Scenario {
  readonly name: string;
  readonly facts: AccountFacts;
  readonly role: RolePathPolicy;
  /** id → minimal capability sets */
  readonly paths: Record<string, string[][]>;
  readonly grants?: Record<string, Acr>;
  readonly effective: Acr | null;
  readonly findings: string[];
  readonly governed?: Record<string, string[][]>;
}

const DEVICE = [['device_theft_unlocked'], ['device_malware']];
const SYNCED = [['sync_account_takeover'], ['device_theft_unlocked'], ['device_malware']];

const SCENARIOS: Scenario[] = [
  { name: '1. one device-bound passkey, nothing else: lock-out risk', facts: facts({ passkeys: [bound('k1')] }), role: role(), paths: { 'passkey:k1': DEVICE }, grants: { 'passkey:k1': ACR.aal2PhishingResistant }, effective: ACR.aal2PhishingResistant, findings: ['single_passkey_no_recovery'] },
  { name: '2. one attested device-bound key: AAL3', facts: facts({ passkeys: [trusted('k1'), trusted('k2')] }), role: role(), paths: { 'passkey:k1': DEVICE, 'passkey:k2': DEVICE }, effective: ACR.aal3, findings: [] },
  { name: '3. only syncable passkeys: the sync account opens them', facts: facts({ passkeys: [synced('s1'), synced('s2')] }), role: role(), paths: { 'passkey:s1': SYNCED, 'passkey:s2': SYNCED }, effective: ACR.aal2PhishingResistant, findings: ['syncable_passkeys_only'] },
  { name: '4. AAL3 key beside a syncable one: the syncable one decides', facts: facts({ passkeys: [trusted('k1'), synced('s1')] }), role: role(), paths: { 'passkey:k1': DEVICE, 'passkey:s1': SYNCED }, effective: ACR.aal2PhishingResistant, findings: [] },
  {
    name: '5. default member recovery: code + authenticator app (recovery only)',
    facts: facts({ passkeys: [bound('k1')], codeFactors: [code('totp')], recoveryCodes: 10 }),
    role: role(),
    paths: { 'passkey:k1': DEVICE, 'recovery:code+totp': [['phishing_relay'], ['stolen_recovery_codes', 'device_theft_unlocked'], ['stolen_recovery_codes', 'device_malware'], ['stolen_recovery_codes', 'totp_seed_theft']] },
    grants: { 'recovery:code+totp': ACR.aal2 },
    effective: ACR.aal2,
    findings: ['recovery_weaker_than_sign_in'],
  },
  {
    name: '6. recovery codes saved but no second proof bound: recovery cannot be completed',
    facts: facts({ passkeys: [bound('k1')], recoveryCodes: 10 }),
    role: role(),
    paths: { 'passkey:k1': DEVICE },
    effective: ACR.aal2PhishingResistant,
    findings: ['single_passkey_no_recovery', 'recovery_proof_missing'],
  },
  {
    name: '7. one-code recovery on an AAL2 role: below the required level',
    facts: facts({ passkeys: [bound('k1')], recoveryCodes: 3 }),
    role: role({ recovery: { enabled: true, proofs: [] } }),
    paths: { 'passkey:k1': DEVICE, 'recovery:code': [['phishing_relay'], ['stolen_recovery_codes']] },
    grants: { 'recovery:code': ACR.aal1 },
    effective: ACR.aal1,
    findings: ['below_required_level', 'recovery_weaker_than_sign_in'],
  },
  {
    name: '8. SMS sign-in beside a passkey (AAL1 member): SIM swap alone opens it',
    facts: facts({ passkeys: [bound('k1')], codeFactors: [code('sms')] }),
    role: aal1Member(['sms']),
    paths: { 'passkey:k1': DEVICE, 'code:sms': [['phishing_relay'], ['sim_swap'], ['device_theft_unlocked'], ['device_malware']] },
    grants: { 'code:sms': ACR.aal1 },
    effective: ACR.aal1,
    findings: ['phishable_sign_in', 'sms_sign_in'],
  },
  {
    name: '9. SMS sign-in and SMS recovery proof: the same phone',
    facts: facts({ passkeys: [bound('k1')], codeFactors: [code('sms')], recoveryCodes: 10 }),
    role: aal1Member(['sms'], { enabled: true, proofs: ['sms'] }),
    paths: {
      'passkey:k1': DEVICE,
      'code:sms': [['phishing_relay'], ['sim_swap'], ['device_theft_unlocked'], ['device_malware']],
      'recovery:code+sms': [['phishing_relay'], ['sim_swap', 'stolen_recovery_codes'], ['device_theft_unlocked', 'stolen_recovery_codes'], ['device_malware', 'stolen_recovery_codes']],
    },
    effective: ACR.aal1,
    findings: ['shared_phone', 'recovery_weaker_than_sign_in', 'phishable_sign_in', 'sms_sign_in'],
  },
  {
    name: '10. email code and email recovery proof: the same mailbox',
    facts: facts({ passkeys: [bound('k1')], codeFactors: [code('email')], recoveryCodes: 10 }),
    role: aal1Member(['email'], { enabled: true, proofs: ['email'] }),
    paths: { 'passkey:k1': DEVICE, 'code:email': [['phishing_relay'], ['mailbox_takeover']], 'recovery:code+email': [['phishing_relay'], ['mailbox_takeover', 'stolen_recovery_codes']] },
    effective: ACR.aal1,
    findings: ['shared_mailbox', 'recovery_weaker_than_sign_in', 'phishable_sign_in', 'email_sign_in'],
  },
  {
    name: '11. TOTP signs in and is the recovery proof',
    facts: facts({ passkeys: [bound('k1'), bound('k2')], codeFactors: [code('totp')], recoveryCodes: 10 }),
    role: aal1Member(['totp'], { enabled: true, proofs: ['totp'] }),
    paths: {
      'passkey:k1': DEVICE,
      'passkey:k2': DEVICE,
      'code:totp': [['phishing_relay'], ['device_theft_unlocked'], ['device_malware'], ['totp_seed_theft']],
      'recovery:code+totp': [['phishing_relay'], ['stolen_recovery_codes', 'device_theft_unlocked'], ['stolen_recovery_codes', 'device_malware'], ['stolen_recovery_codes', 'totp_seed_theft']],
    },
    effective: ACR.aal1,
    findings: ['shared_authenticator_app', 'recovery_weaker_than_sign_in', 'phishable_sign_in'],
  },
  {
    name: '12. codes only, no passkey (AAL1 member)',
    facts: facts({ codeFactors: [code('email'), code('totp')] }),
    role: aal1Member(['totp', 'email'], { enabled: false, proofs: [] }),
    paths: { 'code:email': [['phishing_relay'], ['mailbox_takeover']], 'code:totp': [['phishing_relay'], ['device_theft_unlocked'], ['device_malware'], ['totp_seed_theft']] },
    effective: ACR.aal1,
    findings: ['email_sign_in'],
  },
  {
    name: '13. a code factor the role no longer lets sign in is no sign-in path',
    facts: facts({ passkeys: [bound('k1'), bound('k2')], codeFactors: [code('sms')] }),
    role: role(),
    paths: { 'passkey:k1': DEVICE, 'passkey:k2': DEVICE },
    effective: ACR.aal2PhishingResistant,
    findings: [],
  },
  { name: '14. passkey without user verification: one factor', facts: facts({ passkeys: [bound('k1', { userVerified: false }), bound('k2')] }), role: role(), paths: { 'passkey:k1': DEVICE, 'passkey:k2': DEVICE }, grants: { 'passkey:k1': ACR.aal1 }, effective: ACR.aal1, findings: ['below_required_level', 'passkey_without_user_verification'] },
  {
    name: '15. a pending device link from an AAL3 session gives at most AAL2',
    facts: facts({ passkeys: [trusted('k1'), trusted('k2')], links: [{ id: 'd1', kind: 'device', maxAal: 3 }] }),
    role: role(),
    paths: { 'device_link:d1': [['device_theft_unlocked'], ['device_malware'], ['link_interception']], 'passkey:k1': DEVICE, 'passkey:k2': DEVICE },
    grants: { 'device_link:d1': ACR.aal2 },
    effective: ACR.aal2,
    findings: ['pending_device_link'],
  },
  { name: '16. invited account with no passkey yet: no way in of its own', facts: facts({ status: 'invited', links: [{ id: 'e1', kind: 'enrolment', maxAal: null }] }), role: role(), paths: {}, effective: null, findings: ['no_self_service_path', 'pending_enrolment_link'], governed: { 'enrolment_link:e1': [['link_interception']] } },
  {
    name: '17. assisted recovery with two admins and a delay',
    facts: facts({ passkeys: [bound('k1'), bound('k2')] }),
    role: role({}, { assisted: { enabled: true, delayMs: 86_400_000, activeAdmins: 3 } }),
    paths: { 'passkey:k1': DEVICE, 'passkey:k2': DEVICE },
    effective: ACR.aal2PhishingResistant,
    findings: [],
    governed: { assisted_recovery: [['help_desk_social_engineering', 'notice_suppression'], ['two_admin_collusion', 'notice_suppression']] },
  },
  {
    name: '18. assisted recovery with one admin and no delay',
    facts: facts({ passkeys: [bound('k1'), bound('k2')] }),
    role: role({}, { assisted: { enabled: true, delayMs: 0, activeAdmins: 1 } }),
    paths: { 'passkey:k1': DEVICE, 'passkey:k2': DEVICE },
    effective: ACR.aal2PhishingResistant,
    findings: ['assisted_recovery_single_approver', 'assisted_recovery_no_delay'],
    governed: { assisted_recovery: [['help_desk_social_engineering'], ['rogue_admin']] },
  },
  { name: '19. offboarded: no paths at all, and no finding', facts: facts({ status: 'offboarded', passkeys: [bound('k1')] }), role: role(), paths: {}, effective: null, findings: [] },
  {
    name: '20. recovery off: recovery codes give no path',
    facts: facts({ passkeys: [bound('k1')], recoveryCodes: 10 }),
    role: role({ recovery: { enabled: false, proofs: [] } }),
    paths: { 'passkey:k1': DEVICE },
    effective: ACR.aal2PhishingResistant,
    findings: ['single_passkey_no_recovery'],
  },
  {
    name: '21. a syncable passkey the role refuses is no way in',
    facts: facts({ passkeys: [synced('s1'), bound('k1')] }),
    role: role({ allowSyncedPasskeys: false }),
    paths: { 'passkey:k1': DEVICE },
    effective: ACR.aal2PhishingResistant,
    findings: ['single_passkey_no_recovery'],
  },
];

describe('takeover paths: table of accounts (docs/paths.md)', () => {
  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', (_name, s) => {
    const analysis = analyseAccount(s.facts, s.role);
    expect(Object.fromEntries(analysis.paths.map((p) => [p.id, p.capabilities]))).toEqual(canon(s.paths));
    for (const [id, acr] of Object.entries(s.grants ?? {})) expect(analysis.paths.find((p) => p.id === id)?.grantsAcr, id).toBe(acr);
    expect(analysis.effectiveAcr).toBe(s.effective);
    expect(analysis.findings.map((f) => f.code)).toEqual(s.findings);
    expect(Object.fromEntries(analysis.governedPaths.map((p) => [p.id, p.capabilities]))).toEqual(canon(s.governed ?? {}));
    for (const path of [...analysis.paths, ...analysis.governedPaths]) {
      // Minimal: no set contains another.
      for (const a of path.capabilities) for (const b of path.capabilities) if (a !== b) expect(b.every((c) => a.includes(c)), `${path.id}: ${a} ⊇ ${b}`).toBe(false);
    }
  });

  it('every finding has a sentence, and advice names what to remove', () => {
    const analysis = analyseAccount(SCENARIOS[7]!.facts, SCENARIOS[7]!.role);
    expect(analysis.findings.every((f) => f.message.length > 20)).toBe(true);
    expect(analysis.advice).toEqual(['Remove text messages: a phishing relay or a SIM swap or a stolen unlocked device or malware on a device is then no longer enough.']);
  });
});

// Arbitrary accounts and paths for the properties.
const passkeyArb = fc.record({ id: fc.constantFrom('a', 'b', 'c', 'd'), nickname: fc.constant('k'), backupEligible: fc.boolean(), userVerified: fc.boolean(), attestationTrusted: fc.boolean() });
const codeArb = fc.constantFrom<CodeFactorFact['factor']>('totp', 'sms', 'email').map(code);
const linkArb: fc.Arbitrary<LinkFact> = fc.record({ id: fc.constantFrom('l1', 'l2'), kind: fc.constantFrom('device' as const, 'enrolment' as const), maxAal: fc.constantFrom(1 as const, 2 as const, 3 as const) });
const factsArb = fc.record({
  passkeys: fc.uniqueArray(passkeyArb, { selector: (p) => p.id, maxLength: 4 }),
  codeFactors: fc.uniqueArray(codeArb, { selector: (c) => c.factor, maxLength: 3 }),
  recoveryCodes: fc.constantFrom(0, 10),
  links: fc.uniqueArray(linkArb, { selector: (l) => l.id, maxLength: 2 }),
}).map((p) => facts(p));
const roleArb = fc.record({
  minAal: fc.constantFrom(1 as const, 2 as const),
  codeFactors: fc.subarray(['totp', 'sms', 'email'] as const),
  proofs: fc.subarray(['totp', 'sms', 'email'] as const),
  enabled: fc.boolean(),
}).map((r) => role({ minAal: r.minAal, codeFactors: r.minAal === 1 ? r.codeFactors : [], recovery: { enabled: r.enabled, proofs: r.proofs } }));
const acrArb = fc.constantFrom<Acr>(ACR.aal1, ACR.aal2, ACR.aal2PhishingResistant, ACR.aal3);

describe('takeover paths: properties', () => {
  it('adding a path never raises the effective level; removing one never lowers it', () => {
    fc.assert(
      fc.property(fc.array(acrArb, { maxLength: 8 }), acrArb, (levels, extra) => {
        const before = effectiveAcr(levels.map((grantsAcr) => ({ grantsAcr })));
        const after = effectiveAcr([...levels, extra].map((grantsAcr) => ({ grantsAcr })));
        expect(acrBelow(before, after)).toBe(false);
      }),
    );
  });

  it('adding a factor to an account never raises its effective level', () => {
    fc.assert(
      fc.property(factsArb, roleArb, fc.oneof(passkeyArb.map((p) => ({ passkey: { ...p, id: 'new' } })), codeArb.map((c) => ({ code: c }))), (f, r, extra) => {
        const before = analyseAccount(f, r).effectiveAcr;
        const more = 'passkey' in extra ? facts({ ...f, passkeys: [...f.passkeys, extra.passkey] }) : facts({ ...f, codeFactors: [...f.codeFactors.filter((c) => c.factor !== extra.code.factor), extra.code] });
        expect(acrBelow(before, analyseAccount(more, r).effectiveAcr)).toBe(false);
      }),
    );
  });

  it('removing a factor never lowers the effective level', () => {
    fc.assert(
      fc.property(factsArb, roleArb, fc.nat(), (f, r, n) => {
        const all = [...f.passkeys.map((p) => ({ passkey: p.id })), ...f.codeFactors.map((c) => ({ code: c.factor }))];
        fc.pre(all.length > 0);
        const gone = all[n % all.length]!;
        const fewer = facts({ ...f, passkeys: f.passkeys.filter((p) => !('passkey' in gone) || p.id !== gone.passkey), codeFactors: f.codeFactors.filter((c) => !('code' in gone) || c.factor !== gone.code) });
        expect(acrBelow(analyseAccount(fewer, r).effectiveAcr, analyseAccount(f, r).effectiveAcr)).toBe(false);
      }),
    );
  });

  it('the answer does not depend on the order factors were added', () => {
    fc.assert(
      fc.property(factsArb, roleArb, fc.nat(), (f, r, seed) => {
        const shuffle = <T>(items: readonly T[]) => items.map((item, i) => ({ item, key: (seed * 31 + i * 17) % 101 })).sort((a, b) => a.key - b.key).map((x) => x.item);
        const shuffled = facts({ ...f, passkeys: shuffle(f.passkeys).reverse(), codeFactors: shuffle(f.codeFactors).reverse(), links: shuffle(f.links).reverse() });
        expect(analyseAccount(shuffled, r)).toEqual(analyseAccount(f, r));
      }),
    );
  });

  it('every path lists only catalogued capabilities, in minimal sets', () => {
    fc.assert(
      fc.property(factsArb, roleArb, (f, r) => {
        const a = analyseAccount(f, r);
        for (const p of [...a.paths, ...a.governedPaths]) {
          expect(p.capabilities.length).toBeGreaterThan(0);
          for (const set of p.capabilities) for (const c of set) expect(CAPABILITIES).toContain(c);
        }
      }),
    );
  });
});
