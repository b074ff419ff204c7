import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../core/model.ts';
import { renderSignInsSection, riskReasonInWords } from './signIns.ts';

const event = (details: Record<string, unknown>): AuditEvent => ({
  seq: 7,
  at: Date.UTC(2026, 11, 6, 9, 30),
  type: 'sign_in',
  outcome: 'success',
  reason: null,
  accountId: 'a1',
  ip: '192.0.2.1',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  details,
  detailsJson: JSON.stringify(details),
  prevHash: '',
  hash: '',
  mac: null,
});

describe('recent sign-ins on the console account page', () => {
  it('says the risk decision and each reason in words, and an unknown reason readably', () => {
    const text = renderSignInsSection([event({ amr: ['pop', 'user', 'mfa'], risk: { decision: 'step_up', reasons: ['new_device', 'impossible_travel', 'some_new_signal'] } })]).text;
    expect(text).toContain('data-risk-decision="step_up"');
    expect(text).toContain('a device not seen before; too far from the last sign-in for the time between them; some new signal');
    expect(text).toContain('a passkey, unlocked with your PIN or biometric');
    expect(text).toContain('Chrome on Linux');
    expect(riskReasonInWords('new_ip')).toBe('an address not seen before');
  });

  it('shows nothing in the risk column when the event has no risk, and ignores a malformed one', () => {
    expect(renderSignInsSection([event({ amr: ['pop'] })]).text).not.toContain('data-risk-decision');
    expect(renderSignInsSection([event({ risk: { reasons: 'new_device' } })]).text).toContain('data-risk-decision=""');
    expect(renderSignInsSection([]).text).toContain('No sign-in recorded.');
  });

  it('escapes what the event carries', () => {
    const text = renderSignInsSection([event({ risk: { decision: '<b>x</b>', reasons: ['<script>'] } })]).text;
    expect(text).not.toContain('<script>');
    expect(text).toContain('&lt;script&gt;');
  });
});
