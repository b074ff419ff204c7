/**
 * Assurance computed from evidence (NIST SP 800-63B-4 §2). The only place an authentication
 * assurance level is decided: sessions and tokens carry what `assess` returns and nothing more.
 */

export type Aal = 1 | 2 | 3;

/** The `acr` values Keybound issues and understands, weakest first. */
export const ACR = {
  aal1: 'urn:keybound:aal1',
  aal2: 'urn:keybound:aal2',
  /** AAL2 reached with a phishing-resistant authenticator (63B-4 §3.2.5). */
  aal2PhishingResistant: 'urn:keybound:aal2:phr',
  aal3: 'urn:keybound:aal3',
} as const;

export type Acr = (typeof ACR)[keyof typeof ACR];

const RANK: Record<Acr, number> = {
  [ACR.aal1]: 1,
  [ACR.aal2]: 2,
  [ACR.aal2PhishingResistant]: 3,
  [ACR.aal3]: 4,
};

export const ACR_VALUES: readonly Acr[] = [ACR.aal1, ACR.aal2, ACR.aal2PhishingResistant, ACR.aal3];

export function isAcr(value: string): value is Acr {
  return Object.hasOwn(RANK, value);
}

/** True when a sign-in that reached `have` meets a request for `wanted`. */
export function acrSatisfies(have: Acr, wanted: Acr): boolean {
  return RANK[have] >= RANK[wanted];
}

export interface PasskeyEvidence {
  readonly kind: 'passkey';
  readonly userPresent: boolean;
  readonly userVerified: boolean;
  /** BE flag: the credential may be synced to other devices. */
  readonly backupEligible: boolean;
  /** The credential's attestation was verified and chains to something policy trusts. */
  readonly attestationTrusted: boolean;
}

/** One-time-code factors: never phishing-resistant, never more than one factor on their own. */
export interface CodeEvidence {
  readonly kind: 'totp' | 'sms_code' | 'email_code' | 'recovery_code';
}

export type FactorEvidence = PasskeyEvidence | CodeEvidence;

export interface Assurance {
  readonly aal: Aal;
  readonly acr: Acr;
  readonly phishingResistant: boolean;
  /** Authentication method references, RFC 8176. */
  readonly amr: readonly string[];
  /** Why the level is what it is, in stable words, for the audit trail. */
  readonly reasons: readonly string[];
}

const CODE_AMR: Record<CodeEvidence['kind'], readonly string[]> = {
  totp: ['otp'],
  sms_code: ['sms', 'otp'],
  email_code: ['otp'],
  recovery_code: ['otp'],
};

/**
 * Computes the level one sign-in reached from the factors verified in it.
 *
 * - A passkey with UV is multi-factor (possession + the device's PIN or biometric): AAL2, and
 *   phishing-resistant because the signature is bound to the origin (63B-4 §3.2.5).
 * - AAL3 further needs a non-exportable key: device-bound (BE=0) and an attestation policy trusts;
 *   "syncable authenticators SHALL NOT be used" at AAL3 (63B-4 §2.3.1).
 * - A passkey without UV is single-factor: AAL1 (63B-4 §3.1.7: UV flag SHALL be inspected).
 * - One-time codes are single-factor "something you have"; two of them, or one with a passkey
 *   without UV, are still one factor kind: AAL1.
 */
export function assess(factors: readonly FactorEvidence[]): Assurance {
  const amr = new Set<string>();
  const reasons: string[] = [];
  let best: { aal: Aal; phishingResistant: boolean } = { aal: 1, phishingResistant: false };
  if (factors.length === 0) throw new Error('assess() needs at least one verified factor');
  for (const factor of factors) {
    if (factor.kind === 'passkey') {
      amr.add('pop');
      // RFC 8176 `hwk`: "Proof-of-Possession (PoP) of a hardware-secured key". BE=0 is the
      // authenticator's own word; only an attestation policy trusts (a chain to a known root)
      // says the key is in hardware. An untrusted device-bound key proves possession only.
      if (factor.backupEligible) amr.add('swk');
      else if (factor.attestationTrusted) amr.add('hwk');
      if (factor.userPresent) amr.add('user');
      let level: Aal = 1;
      if (!factor.userVerified) {
        reasons.push('passkey_without_user_verification');
      } else {
        amr.add('mfa');
        level = 2;
        if (factor.backupEligible) reasons.push('passkey_syncable');
        else if (!factor.attestationTrusted) reasons.push('passkey_attestation_not_trusted');
        else level = 3;
      }
      if (level > best.aal || (level === best.aal && !best.phishingResistant)) best = { aal: level, phishingResistant: true };
    } else {
      for (const value of CODE_AMR[factor.kind]) amr.add(value);
      reasons.push(`${factor.kind}_single_factor`);
    }
  }
  const acr = best.aal === 3 ? ACR.aal3 : best.aal === 2 ? (best.phishingResistant ? ACR.aal2PhishingResistant : ACR.aal2) : ACR.aal1;
  return { aal: best.aal, acr, phishingResistant: best.phishingResistant, amr: [...amr], reasons };
}

/** Level of an `acr` value. */
export function aalOf(acr: Acr): Aal {
  return acr === ACR.aal3 ? 3 : acr === ACR.aal1 ? 1 : 2;
}
