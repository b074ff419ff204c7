import { describe, expect, it } from 'vitest';
import { ACR, acrSatisfies, assess, type FactorEvidence } from './level.ts';

const passkey = (p: Partial<Extract<FactorEvidence, { kind: 'passkey' }>> = {}): FactorEvidence => ({
  kind: 'passkey',
  userPresent: true,
  userVerified: true,
  backupEligible: false,
  attestationTrusted: false,
  ...p,
});

describe('assess: the level a sign-in reached, from its evidence (NIST SP 800-63B-4)', () => {
  it.each([
    ['passkey without UV is single-factor', [passkey({ userVerified: false })], 1, ACR.aal1, ['pop', 'user']],
    ['finding 3: device-bound passkey with UV, attestation untrusted, claims no hwk', [passkey()], 2, ACR.aal2PhishingResistant, ['pop', 'user', 'mfa']],
    ['syncable passkey with UV never reaches AAL3, even attested', [passkey({ backupEligible: true, attestationTrusted: true })], 2, ACR.aal2PhishingResistant, ['pop', 'swk', 'user', 'mfa']],
    ['device-bound, UV, attestation trusted: AAL3', [passkey({ attestationTrusted: true })], 3, ACR.aal3, ['pop', 'hwk', 'user', 'mfa']],
    ['TOTP alone', [{ kind: 'totp' }], 1, ACR.aal1, ['otp']],
    ['SMS alone', [{ kind: 'sms_code' }], 1, ACR.aal1, ['sms', 'otp']],
    ['two codes are still one factor kind', [{ kind: 'totp' }, { kind: 'recovery_code' }], 1, ACR.aal1, ['otp']],
    ['passkey without UV plus a code stays AAL1', [passkey({ userVerified: false }), { kind: 'totp' }], 1, ACR.aal1, ['pop', 'user', 'otp']],
    ['finding 3: trusted device-bound passkey without UV still claims hwk', [passkey({ userVerified: false, attestationTrusted: true })], 1, ACR.aal1, ['pop', 'hwk', 'user']],
  ] as const)('%s', (_name, factors, aal, acr, amr) => {
    const result = assess(factors);
    expect(result.aal).toBe(aal);
    expect(result.acr).toBe(acr);
    expect([...result.amr].sort()).toEqual([...amr].sort());
  });

  it('codes are never phishing-resistant', () => {
    expect(assess([{ kind: 'totp' }]).phishingResistant).toBe(false);
    expect(assess([{ kind: 'email_code' }]).phishingResistant).toBe(false);
  });

  it('gives reasons for a level below AAL3', () => {
    expect(assess([passkey({ backupEligible: true })]).reasons).toContain('passkey_syncable');
    expect(assess([passkey()]).reasons).toContain('passkey_attestation_not_trusted');
    expect(assess([passkey({ userVerified: false })]).reasons).toContain('passkey_without_user_verification');
  });

  it('refuses to assess nothing', () => {
    expect(() => assess([])).toThrow();
  });
});

describe('acrSatisfies', () => {
  const order = [ACR.aal1, ACR.aal2, ACR.aal2PhishingResistant, ACR.aal3];
  it('orders the levels', () => {
    for (let i = 0; i < order.length; i++) {
      for (let j = 0; j < order.length; j++) {
        expect(acrSatisfies(order[i]!, order[j]!), `${order[i]} vs ${order[j]}`).toBe(i >= j);
      }
    }
  });
});
