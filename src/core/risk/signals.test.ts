import { describe, expect, it } from 'vitest';
import { distanceKm, SIGNAL_TESTS, signalsOf, type PastSignIn, type Signal, type SignalFacts } from './signals.ts';

const HOUR = 3_600_000;
const LONDON = { country: 'GB', city: 'London', lat: 51.5, lon: -0.13 };
const PARIS = { country: 'FR', city: 'Paris', lat: 48.86, lon: 2.35 };
const NEW_YORK = { country: 'US', city: 'New York', lat: 40.71, lon: -74.0 };
const past = (p: Partial<PastSignIn>): PastSignIn => ({ at: 0, success: true, passkey: 'pk1', agent: 'Chrome on Linux', place: LONDON, ...p });
const now = 10 * HOUR;

const cases: [Signal, string, SignalFacts, boolean][] = [
  ['new_device', 'same passkey and browser', { now, passkey: 'pk1', agent: 'Chrome on Linux', history: [past({})] }, false],
  ['new_device', 'another passkey', { now, passkey: 'pk2', agent: 'Chrome on Linux', history: [past({})] }, true],
  ['new_device', 'another browser', { now, passkey: 'pk1', agent: 'Firefox on Linux', history: [past({})] }, true],
  ['new_device', 'first sign-in sets the baseline', { now, passkey: 'pk2', agent: 'Firefox on Linux', history: [] }, false],
  ['new_device', 'only failures before', { now, passkey: 'pk2', history: [past({ success: false })] }, false],
  ['new_country', 'same country', { now, place: LONDON, history: [past({})] }, false],
  ['new_country', 'another country', { now, place: PARIS, history: [past({})] }, true],
  ['new_country', 'no place known now', { now, place: null, history: [past({})] }, false],
  ['new_country', 'no place known before', { now, place: PARIS, history: [past({ place: null })] }, false],
  ['impossible_travel', 'London to New York in 10 hours', { now, place: NEW_YORK, history: [past({})] }, false],
  ['impossible_travel', 'London to New York in 1 hour', { now, place: NEW_YORK, history: [past({ at: now - HOUR })] }, true],
  ['impossible_travel', 'same city at once', { now, place: LONDON, history: [past({ at: now })] }, false],
  ['impossible_travel', 'London to Paris (344 km) in 20 minutes', { now, place: PARIS, history: [past({ at: now - HOUR / 3 })] }, true],
  ['impossible_travel', 'London to Paris in 1 hour', { now, place: PARIS, history: [past({ at: now - HOUR })] }, false],
  ['privileged_action', 'admin API', { now, privileged: true }, true],
  ['privileged_action', 'ordinary request', { now }, false],
  ['sensitive_client', 'client marked sensitive', { now, sensitiveClient: true }, true],
  ['sensitive_client', 'other client', { now, sensitiveClient: false }, false],
  ['session_address_changed', 'same address', { now, session: { ip: '10.0.0.1', agent: 'a', requestIp: '10.0.0.1', requestAgent: 'a' } }, false],
  ['session_address_changed', 'new address', { now, session: { ip: '10.0.0.1', agent: 'a', requestIp: '10.0.0.2', requestAgent: 'a' } }, true],
  ['session_agent_changed', 'same browser family', { now, session: { ip: '1', agent: 'Chrome on Linux', requestIp: '1', requestAgent: 'Chrome on Linux' } }, false],
  ['session_agent_changed', 'another browser', { now, session: { ip: '1', agent: 'Chrome on Linux', requestIp: '1', requestAgent: 'Firefox on Windows' } }, true],
  ['failure_velocity', 'five failures in the window', { now, failureMax: 5, failureWindowMs: HOUR, history: Array.from({ length: 5 }, () => past({ success: false, at: now - 60_000 })) }, true],
  ['failure_velocity', 'four failures', { now, failureMax: 5, failureWindowMs: HOUR, history: Array.from({ length: 4 }, () => past({ success: false, at: now - 60_000 })) }, false],
  ['failure_velocity', 'five failures, old', { now, failureMax: 5, failureWindowMs: HOUR, history: Array.from({ length: 5 }, () => past({ success: false, at: now - 2 * HOUR })) }, false],
  ['failure_velocity', 'the policy\'s own refusals are not failures', { now, failureMax: 3, failureWindowMs: HOUR, history: [past({ success: false, reason: 'code_invalid', at: now - 60_000 }), ...['risk_denied', 'step_up_required', 'risk_denied'].map((reason) => past({ success: false, reason, at: now - 60_000 }))] }, false],
  ['failure_velocity', 'failed proofs are', { now, failureMax: 3, failureWindowMs: HOUR, history: ['code_invalid', 'passkey_signature_invalid', 'sms_sim_changed'].map((reason) => past({ success: false, reason, at: now - 60_000 })) }, true],
  ['sim_changed', 'SIM changed', { now, simChanged: true }, true],
  ['sim_changed', 'no SIM change', { now }, false],
];

describe('signals', () => {
  it.each(cases)('%s: %s', (signal, _, facts, raised) => {
    expect(SIGNAL_TESTS[signal](facts)).toBe(raised);
    expect(signalsOf(facts).includes(signal)).toBe(raised);
  });

  it('measures distances', () => {
    expect(Math.round(distanceKm(LONDON, PARIS))).toBeGreaterThan(330);
    expect(Math.round(distanceKm(LONDON, PARIS))).toBeLessThan(350);
  });
});
