import { X509Certificate } from 'node:crypto';

/**
 * Attestation trust: whether a verified attestation statement chains to something policy trusts.
 * The statement itself is verified elsewhere; this module only anchors.
 */
export interface TrustPolicy {
  /**
   * AAGUIDs (lower-case 8-4-4-4-12) policy accepts; empty accepts any model. It narrows verified
   * chains and never replaces one: an AAGUID is whatever the authenticator writes, and a self-made
   * certificate can carry any AAGUID extension.
   */
  readonly aaguids: readonly string[];
  /** Root certificates (PEM) an attestation chain may end at, for any model. */
  readonly anchors: readonly string[];
}

/** What imported FIDO metadata (MDS3) says of one authenticator model, found by its AAGUID. */
export interface AuthenticatorMetadata {
  /** The statement's `attestationRootCertificates`, as PEM: roots for this model only. */
  readonly rootCertificates: readonly string[];
  /** Every `status` of the entry's `statusReports`. */
  readonly statuses: readonly string[];
}

/**
 * Statuses that refuse an authenticator whatever its attestation (FIDO Metadata Service §3.1.4,
 * AuthenticatorStatus): the model's keys or its user verification can no longer be relied on.
 */
export const REFUSED_STATUSES: readonly string[] = ['REVOKED', 'USER_VERIFICATION_BYPASS', 'ATTESTATION_KEY_COMPROMISE', 'USER_KEY_REMOTE_COMPROMISE', 'USER_KEY_PHYSICAL_COMPROMISE'];

export interface TrustDecision {
  readonly trusted: boolean;
  readonly reason: 'anchored' | 'metadata_anchored' | 'self_or_none' | 'not_anchored' | 'aaguid_not_allowed' | 'authenticator_compromised';
}

const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';

const anchorCache = new Map<string, X509Certificate | null>();

function parseAnchor(pem: string): X509Certificate | null {
  if (!anchorCache.has(pem)) {
    let cert: X509Certificate | null = null;
    try {
      cert = new X509Certificate(pem);
    } catch {
      cert = null;
    }
    anchorCache.set(pem, cert);
  }
  return anchorCache.get(pem) ?? null;
}

function validAt(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

/**
 * Decides trust for an attestation whose statement verified. Trust comes only from a chain that
 * verifies to a root: a configured anchor, or a root the FIDO metadata entry for this AAGUID lists.
 * The AAGUID allow-list then narrows which verified models are accepted.
 * @param x5c the attestation certificate chain, leaf first; empty for `none` and self attestation.
 */
export function decideTrust(input: { x5c: readonly Uint8Array[]; aaguid: string; policy: TrustPolicy; metadata?: AuthenticatorMetadata | undefined; now: number }): TrustDecision {
  if (input.metadata?.statuses.some((s) => REFUSED_STATUSES.includes(s))) return { trusted: false, reason: 'authenticator_compromised' };
  if (input.x5c.length === 0) return { trusted: false, reason: 'self_or_none' };
  let reason: TrustDecision['reason'];
  if (chainsToAnchor(input.x5c, input.policy.anchors, input.now)) reason = 'anchored';
  else if (input.metadata && chainsToAnchor(input.x5c, input.metadata.rootCertificates, input.now)) reason = 'metadata_anchored';
  else return { trusted: false, reason: 'not_anchored' };
  const allowList = input.policy.aaguids;
  if (allowList.length > 0 && (input.aaguid === ZERO_AAGUID || !allowList.includes(input.aaguid))) return { trusted: false, reason: 'aaguid_not_allowed' };
  return { trusted: true, reason };
}

/** True when every certificate is valid at `now`, each is issued by the next, and the last by an anchor. */
export function chainsToAnchor(x5c: readonly Uint8Array[], anchorPems: readonly string[], now: number): boolean {
  if (anchorPems.length === 0 || x5c.length === 0) return false;
  let chain: X509Certificate[];
  try {
    chain = x5c.map((der) => new X509Certificate(der));
  } catch {
    return false; // A certificate node:crypto cannot parse is never trusted.
  }
  if (!chain.every((cert) => validAt(cert, now))) return false;
  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i]!;
    const issuer = chain[i + 1]!;
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) return false;
  }
  const last = chain[chain.length - 1]!;
  for (const pem of anchorPems) {
    const anchor = parseAnchor(pem);
    if (!anchor || !validAt(anchor, now)) continue;
    if (last.fingerprint256 === anchor.fingerprint256) return true;
    if (last.checkIssued(anchor) && last.verify(anchor.publicKey)) return true;
  }
  return false;
}
