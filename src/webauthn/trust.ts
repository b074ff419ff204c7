import { X509Certificate } from 'node:crypto';

/**
 * Attestation trust: whether a verified attestation statement chains to something policy trusts.
 * The statement itself is verified elsewhere; this module only anchors.
 */
export interface TrustPolicy {
  /** AAGUIDs (lower-case 8-4-4-4-12) trusted when their certificate attestation verified. */
  readonly aaguids: readonly string[];
  /** Root certificates (PEM) an attestation chain may end at. */
  readonly anchors: readonly string[];
}

export interface TrustDecision {
  readonly trusted: boolean;
  readonly reason: 'anchored' | 'aaguid_allowed' | 'self_or_none' | 'not_anchored';
}

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
 * Decides trust for an attestation whose statement verified.
 * @param x5c the attestation certificate chain, leaf first; empty for `none` and self attestation.
 */
export function decideTrust(input: { x5c: readonly Uint8Array[]; aaguid: string; policy: TrustPolicy; now: number }): TrustDecision {
  if (input.x5c.length === 0) return { trusted: false, reason: 'self_or_none' };
  if (chainsToAnchor(input.x5c, input.policy.anchors, input.now)) return { trusted: true, reason: 'anchored' };
  if (input.policy.aaguids.includes(input.aaguid) && input.aaguid !== '00000000-0000-0000-0000-000000000000') {
    return { trusted: true, reason: 'aaguid_allowed' };
  }
  return { trusted: false, reason: 'not_anchored' };
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
