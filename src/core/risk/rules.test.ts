import { describe, expect, it } from 'vitest';
import { ACR } from '../assurance/level.ts';
import { evaluate } from './engine.ts';
import { DEFAULT_POLICY, mayNeedSignals, parsePolicy, policyCheck, rulesNaming, type RuleInput } from './rules.ts';

const PHR = ACR.aal2PhishingResistant;
const base: RuleInput = { event: 'sign_in', signals: [], role: 'member', client: null, factor: 'passkey', auth: { acr: PHR, authTime: 1000 }, now: 1000 };
const defaults = [policyCheck(DEFAULT_POLICY)];

describe('default policy', () => {
  const cases: [string, Partial<RuleInput>, string, string[]][] = [
    ['a passkey sign-in from a new country is allowed', { signals: ['new_country'] }, 'allow', []],
    ['a code sign-in from a new country is refused', { signals: ['new_country'], factor: 'code', auth: { acr: ACR.aal1, authTime: 1000 } }, 'deny', ['new_country']],
    ['a code sign-in after impossible travel from a new country: both reasons', { signals: ['new_country', 'impossible_travel'], factor: 'code' }, 'deny', ['new_country', 'impossible_travel']],
    ['a session used from another browser signs in again', { event: 'session', signals: ['session_agent_changed'], now: 2000 }, 'step_up', ['session_agent_changed']],
    ['a new address alone is only recorded', { event: 'session', signals: ['session_address_changed'], now: 2000 }, 'allow', []],
    // No built-in rule acts on new_device or session_address_changed (docs/risk.md, "Signals no built-in rule acts on").
    ['a passkey sign-in from a new device is allowed', { signals: ['new_device'] }, 'allow', []],
    ['a passkey sign-in from a new device in a new country is allowed', { signals: ['new_device', 'new_country'] }, 'allow', []],
    ['a code sign-in from a new browser in a known country is allowed', { signals: ['new_device'], factor: 'code', auth: { acr: ACR.aal1, authTime: 1000 } }, 'allow', []],
    ['a code sign-in from a new browser and a new country is refused for the country', { signals: ['new_device', 'new_country'], factor: 'code', auth: { acr: ACR.aal1, authTime: 1000 } }, 'deny', ['new_country']],
    ['a code-signed-in session used from a new address is allowed', { event: 'session', signals: ['session_address_changed'], factor: 'code', now: 2000 }, 'allow', []],
    ['an admin action from a new address asks only what any admin action asks', { event: 'action', signals: ['privileged_action', 'session_address_changed'], now: 1000 + 660_000 }, 'step_up', ['privileged_action']],
    ['an admin action 5 minutes after a passkey sign-in', { event: 'action', signals: ['privileged_action'], now: 1000 + 300_000 }, 'allow', []],
    ['an admin action 11 minutes after', { event: 'action', signals: ['privileged_action'], now: 1000 + 660_000 }, 'step_up', ['privileged_action']],
  ];
  it.each(cases)('%s', (_, change, decision, reasons) => {
    const d = evaluate(defaults, { ...base, ...change });
    expect(d.decision).toBe(decision);
    expect(d.reasons).toEqual(reasons);
  });

  it('a step-up says what it requires and why', () => {
    const d = evaluate(defaults, { ...base, event: 'action', signals: ['privileged_action'], now: 10_000_000 });
    expect(d.requires).toEqual({ acr: PHR, maxAge: 600 });
    expect(d.advice[0]).toMatch(/10 minutes/);
  });
});

describe('which sign-ins need the costly signals', () => {
  const { signals: _none, ...input } = base;
  const history = ['new_country', 'impossible_travel'] as const;
  const cases: [string, Partial<RuleInput>, readonly ('new_country' | 'impossible_travel')[], boolean][] = [
    ['a passkey sign-in under the built-in rules reads no history', {}, history, false],
    ['a code sign-in does', { factor: 'code' }, history, true],
    ['an old-password sign-in does', { factor: 'password' }, history, true],
    ['nothing does when no history signal is on (no city database)', { factor: 'code' }, [], false],
    ['a session use does not', { event: 'session', factor: 'code' }, history, false],
  ];
  it.each(cases)('%s', (_, change, needing, expected) => {
    expect(mayNeedSignals(rulesNaming(DEFAULT_POLICY.rules, needing), { ...input, ...change })).toBe(expected);
  });

  it('a policy file rule about admins\' passkeys from a new country makes exactly those sign-ins read it', () => {
    const read = parsePolicy(JSON.stringify({ rules: [{ name: 'travel', when: { signals: ['new_country'], factor: ['passkey'], role: ['admin'] }, then: 'deny' }] }));
    if (!read.ok) throw new Error(JSON.stringify(read.errors));
    expect(mayNeedSignals(rulesNaming(read.policy.rules, ['new_country']), { ...input, role: 'admin' })).toBe(true);
    expect(mayNeedSignals(rulesNaming(read.policy.rules, ['new_country']), input)).toBe(false);
  });
});

describe('policy file', () => {
  it('reads rules, and an allow written first exempts', () => {
    const read = parsePolicy(JSON.stringify({ rules: [{ name: 'vpn_ok', when: { role: ['member'], signals: ['new_country'] }, then: 'allow' }, ...DEFAULT_POLICY.rules] }));
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(evaluate([policyCheck(read.policy)], { ...base, signals: ['new_country'], factor: 'code' }).decision).toBe('allow');
    expect(evaluate([policyCheck(read.policy)], { ...base, role: 'admin', signals: ['new_country'], factor: 'code' }).decision).toBe('deny');
  });

  it('step_up defaults to a passkey level; client rules match only that client', () => {
    const read = parsePolicy(JSON.stringify({ rules: [{ when: { client: ['payroll'] }, then: { step_up: { max_age: 60 } } }] }));
    expect(read.ok && read.policy.rules[0]).toEqual({ name: 'rule_1', when: { client: ['payroll'] }, then: { step_up: { acr: PHR, max_age: 60 } } });
    if (!read.ok) return;
    expect(evaluate([policyCheck(read.policy)], { ...base, event: 'authorize', client: 'payroll', now: 100_000 }).reasons).toEqual(['policy:rule_1']);
    expect(evaluate([policyCheck(read.policy)], { ...base, event: 'authorize', client: 'wiki', now: 100_000 }).decision).toBe('allow');
  });

  const bad: [string, string, string[]][] = [
    ['not JSON', '{', ['(file)']],
    ['not an object', '[]', ['(top)']],
    ['no rules', '{}', ['rules']],
    ['unknown signal', '{"rules":[{"when":{"signals":["new_planet"]},"then":"deny"}]}', ['rules[0].when.signals[0]']],
    ['bad then', '{"rules":[{"then":"maybe"}]}', ['rules[0].then']],
    ['bad acr and age', '{"rules":[{"then":{"step_up":{"acr":"gold","max_age":-1}}}]}', ['rules[0].then.step_up.acr', 'rules[0].then.step_up.max_age']],
    ['unknown field', '{"rules":[{"then":"deny","when":{"country":["FR"]}}]}', ['rules[0].when.country']],
    ['bad role and factor', '{"rules":[{"then":"deny","when":{"role":["root"],"factor":["sms"]}}]}', ['rules[0].when.role[0]', 'rules[0].when.factor[0]']],
    ['bad name', '{"rules":[{"name":"Has Spaces","then":"deny"}]}', ['rules[0].name']],
  ];
  it.each(bad)('names the field at fault: %s', (_, text, paths) => {
    const read = parsePolicy(text);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.errors.map((e) => e.path)).toEqual(paths);
    for (const e of read.errors) expect(e.message.length).toBeGreaterThan(5);
  });
});
