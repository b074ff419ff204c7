import { ACR, isAcr, type Acr } from '../assurance/level.ts';
import { ROLES } from '../model.ts';
import { meets, type Authentication, type Check, type CheckResult, type Requirement } from './engine.ts';
import { SIGNALS, type Signal } from './signals.ts';
import { isObject } from '../json.ts';

/**
 * The declared risk policy (KEYBOUND_POLICY_FILE, docs/risk.md): rules `when ... then allow |
 * step_up | deny`. Rules are read in order. A matching `allow` ends the reading (an exception
 * written above the rules it exempts from); every other matching rule adds its requirement, and the
 * engine returns all their reasons.
 */

export const EVENTS = ['sign_in', 'session', 'action', 'authorize'] as const;
export type RiskEvent = (typeof EVENTS)[number];

/** How the person authenticated, as rules name it. */
export const FACTORS = ['passkey', 'code', 'recovery', 'password'] as const;
export type FactorClass = (typeof FACTORS)[number];

export interface RuleWhen {
  /** Every one of these signals is raised. */
  readonly signals?: readonly Signal[];
  readonly role?: readonly string[];
  /** OpenID client ids (authorization only). */
  readonly client?: readonly string[];
  readonly factor?: readonly FactorClass[];
  /** Where the rule applies; every event when absent. */
  readonly event?: readonly RiskEvent[];
}

export type RuleThen = 'allow' | 'deny' | { readonly step_up: { readonly acr: Acr; readonly max_age: number | null } };

export interface Rule {
  readonly name: string;
  readonly when: RuleWhen;
  readonly then: RuleThen;
  /** A sentence for the person (what to do instead). */
  readonly advice?: string;
}

export interface RiskPolicy {
  readonly rules: readonly Rule[];
}

/** What the rules look at. */
export interface RuleInput {
  readonly event: RiskEvent;
  readonly signals: readonly Signal[];
  readonly role: string;
  readonly client: string | null;
  readonly factor: FactorClass;
  /** The authentication a step-up is judged against (the sign-in itself, or the session's). */
  readonly auth: Authentication | null;
  readonly now: number;
}

/** The rules Keybound applies with no policy file: safe out of the box (issue 14). */
export const DEFAULT_POLICY: RiskPolicy = {
  rules: [
    {
      name: 'code_from_new_country',
      when: { event: ['sign_in'], signals: ['new_country'], factor: ['code', 'password'] },
      then: 'deny',
      advice: 'Sign in with a passkey: a one-time code from a country this account has not signed in from is refused.',
    },
    { name: 'impossible_travel', when: { event: ['sign_in'], signals: ['impossible_travel'], factor: ['code', 'password'] }, then: 'deny', advice: 'Sign in with a passkey.' },
    { name: 'browser_changed', when: { event: ['session'], signals: ['session_agent_changed'] }, then: { step_up: { acr: ACR.aal2PhishingResistant, max_age: 0 } }, advice: 'Sign in again with a passkey: this session is now used from another browser.' },
    { name: 'sensitive_app', when: { event: ['authorize'], signals: ['sensitive_client'] }, then: { step_up: { acr: ACR.aal2PhishingResistant, max_age: 600 } }, advice: 'This application asks for a passkey sign-in from the last 10 minutes.' },
    { name: 'admin_action', when: { event: ['action'], signals: ['privileged_action'] }, then: { step_up: { acr: ACR.aal2PhishingResistant, max_age: 600 } }, advice: 'Sign in again with a passkey: administrative actions need a passkey sign-in from the last 10 minutes.' },
  ],
};

const ANY = <T>(list: readonly T[] | undefined, value: T) => list === undefined || list.includes(value);

/** Whether a rule applies to `input` as far as everything but its signals goes. */
function ruleApplies(rule: Rule, input: Omit<RuleInput, 'signals'>): boolean {
  const w = rule.when;
  return (
    ANY(w.event, input.event) &&
    ANY(w.role, input.role) &&
    ANY(w.factor, input.factor) &&
    (w.client === undefined || (input.client !== null && w.client.includes(input.client)))
  );
}

export function ruleMatches(rule: Rule, input: RuleInput): boolean {
  return ruleApplies(rule, input) && (rule.when.signals ?? []).every((s) => input.signals.includes(s));
}

/** The rules that name one of `needing`: worked out once per policy (services/risk/setup.ts), not per sign-in. */
export function rulesNaming(rules: readonly Rule[], needing: readonly Signal[]): readonly Rule[] {
  return rules.filter((r) => (r.when.signals ?? []).some((s) => needing.includes(s)));
}

/**
 * Whether any of `historyRules` (the rules that name a signal costing a read: `rulesNaming`, found
 * once per policy) could apply to `input`, its signals apart: when none could, the caller need not
 * compute them. A passkey sign-in under the built-in rules, which ask about new countries only of
 * code sign-ins, reads no history.
 */
export function mayNeedSignals(historyRules: readonly Rule[], input: Omit<RuleInput, 'signals'>): boolean {
  return historyRules.some((r) => ruleApplies(r, input));
}

/** The reason a matching rule gives: the signals it names, or the rule's name when it names none. */
function ruleReasons(rule: Rule): string[] {
  return rule.when.signals && rule.when.signals.length > 0 ? [...rule.when.signals] : [`policy:${rule.name}`];
}

/** The policy as one engine check. */
export function policyCheck(policy: RiskPolicy): Check<RuleInput> {
  return {
    name: 'risk_policy',
    run: (input) => {
      const results: CheckResult[] = [];
      for (const rule of policy.rules) {
        if (!ruleMatches(rule, input)) continue;
        if (rule.then === 'allow') break;
        const advice = rule.advice !== undefined ? { advice: rule.advice } : {};
        if (rule.then === 'deny') {
          for (const reason of ruleReasons(rule)) results.push({ requires: 'deny', reason, ...advice });
          continue;
        }
        const requires: Requirement = { acr: rule.then.step_up.acr, maxAge: rule.then.step_up.max_age };
        // At sign-in the authentication judged is the one being made.
        if (meets(input.auth, requires, input.now, input.event === 'sign_in')) continue;
        for (const reason of ruleReasons(rule)) results.push({ requires, reason, ...advice });
      }
      return results;
    },
  };
}

// ---- Reading a policy file ----

export interface PolicyError {
  /** Where in the file: `rules[2].then.step_up.max_age`. */
  readonly path: string;
  readonly message: string;
}

const NAME = /^[a-z0-9_.-]{1,64}$/;

function stringList(value: unknown, path: string, errors: PolicyError[], allowed?: readonly string[]): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > 100) {
    errors.push({ path, message: 'must be a list of 1 to 100 strings' });
    return undefined;
  }
  value.forEach((item, i) => {
    if (typeof item !== 'string' || item.length === 0 || item.length > 255) errors.push({ path: `${path}[${i}]`, message: 'must be a string of 1 to 255 characters' });
    else if (allowed && !allowed.includes(item)) errors.push({ path: `${path}[${i}]`, message: `"${item}" is not one of ${allowed.join(', ')}` });
  });
  return value as string[];
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: string, errors: PolicyError[]): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) errors.push({ path: path ? `${path}.${key}` : key, message: `is not a known field (known: ${allowed.join(', ')})` });
}

function readThen(value: unknown, path: string, errors: PolicyError[]): RuleThen | undefined {
  if (value === 'allow' || value === 'deny') return value;
  if (!isObject(value) || !isObject(value.step_up)) {
    errors.push({ path, message: 'must be "allow", "deny" or {"step_up": {"acr": ..., "max_age": seconds}}' });
    return undefined;
  }
  checkKeys(value, ['step_up'], path, errors);
  const step = value.step_up;
  checkKeys(step, ['acr', 'max_age'], `${path}.step_up`, errors);
  const acr = step.acr ?? ACR.aal2PhishingResistant;
  if (typeof acr !== 'string' || !isAcr(acr)) errors.push({ path: `${path}.step_up.acr`, message: `must be one of ${Object.values(ACR).join(', ')}` });
  const maxAge = step.max_age ?? null;
  if (maxAge !== null && (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0 || maxAge > 31_536_000)) errors.push({ path: `${path}.step_up.max_age`, message: 'must be a whole number of seconds from 0 to 31536000, or null' });
  return { step_up: { acr: acr as Acr, max_age: maxAge as number | null } };
}

/** Reads and validates a policy (parsed JSON); every error names the path of the field at fault. */
export function readPolicy(value: unknown): { ok: true; policy: RiskPolicy } | { ok: false; errors: PolicyError[] } {
  const errors: PolicyError[] = [];
  if (!isObject(value)) return { ok: false, errors: [{ path: '(top)', message: 'must be an object {"rules": [...]}' }] };
  checkKeys(value, ['rules', '$schema', 'description'], '', errors);
  if (!Array.isArray(value.rules) || value.rules.length > 200) return { ok: false, errors: [...errors, { path: 'rules', message: 'must be a list of at most 200 rules' }] };
  const rules: Rule[] = [];
  value.rules.forEach((raw: unknown, i: number) => {
    const path = `rules[${i}]`;
    if (!isObject(raw)) return errors.push({ path, message: 'must be an object {"name", "when", "then"}' });
    checkKeys(raw, ['name', 'when', 'then', 'advice'], path, errors);
    const name = raw.name ?? `rule_${i + 1}`;
    if (typeof name !== 'string' || !NAME.test(name)) errors.push({ path: `${path}.name`, message: 'must be 1 to 64 lower-case letters, digits, _ . or -' });
    if (raw.advice !== undefined && (typeof raw.advice !== 'string' || raw.advice.length > 500 || /[\r\n]/.test(raw.advice))) errors.push({ path: `${path}.advice`, message: 'must be one line of at most 500 characters' });
    const when = raw.when ?? {};
    if (!isObject(when)) return errors.push({ path: `${path}.when`, message: 'must be an object of signals, role, client, factor, event' });
    checkKeys(when, ['signals', 'role', 'client', 'factor', 'event'], `${path}.when`, errors);
    const then = readThen(raw.then, `${path}.then`, errors);
    const parsed: RuleWhen = {
      ...(when.signals !== undefined ? { signals: stringList(when.signals, `${path}.when.signals`, errors, SIGNALS) as Signal[] } : {}),
      ...(when.role !== undefined ? { role: stringList(when.role, `${path}.when.role`, errors, ROLES) } : {}),
      ...(when.client !== undefined ? { client: stringList(when.client, `${path}.when.client`, errors) } : {}),
      ...(when.factor !== undefined ? { factor: stringList(when.factor, `${path}.when.factor`, errors, FACTORS) as FactorClass[] } : {}),
      ...(when.event !== undefined ? { event: stringList(when.event, `${path}.when.event`, errors, EVENTS) as RiskEvent[] } : {}),
    };
    if (then) rules.push({ name: name as string, when: parsed, then, ...(typeof raw.advice === 'string' ? { advice: raw.advice } : {}) });
    return undefined;
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, policy: { rules } };
}

/** Parses policy file text: a JSON syntax error is a policy error too. */
export function parsePolicy(text: string): ReturnType<typeof readPolicy> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, errors: [{ path: '(file)', message: `is not JSON: ${(error as Error).message}` }] };
  }
  return readPolicy(value);
}

