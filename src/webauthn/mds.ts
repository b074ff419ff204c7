import { X509Certificate } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { fail, ok, type Result } from '../core/errors.ts';
import type { AttestationMetadataEntry } from '../store/ports.ts';
import { chainsToAnchor, type AuthenticatorMetadata } from './trust.ts';

/**
 * FIDO Metadata Service (MDS3) BLOBs, verified offline. The BLOB is a JWT (FIDO MDS3 §3.1.7):
 * its `x5c` header chain must end at the FIDO root the administrator supplies, and its first
 * certificate must sign it. Keybound fetches nothing: no BLOB, no root, no CRL.
 */

/** JWS algorithms FIDO signs BLOBs with (MDS3 uses RS256; the others are allowed by the spec's JWS profile). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const AAGUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface VerifiedBlob {
  readonly no: number;
  readonly nextUpdate: string;
  /** Entries with an AAGUID (FIDO2 authenticators); U2F-only entries have none and are left out. */
  readonly entries: readonly AttestationMetadataEntry[];
}

const invalid = (why: string) => fail('metadata_blob_invalid', { message: `This FIDO metadata BLOB did not verify: ${why}.` });

/**
 * Verifies a BLOB against `roots` (PEM) at `now` and reads its entries.
 * MDS3 §3.1.8: "verify the signature of the BLOB ... using the certificate chain in x5c",
 * "ignore the file if the chain cannot be verified".
 */
export async function verifyMdsBlob(jwt: string, roots: readonly string[], now: number): Promise<Result<VerifiedBlob>> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jwt.trim());
  } catch {
    return invalid('it is not a JWT');
  }
  const x5c = Array.isArray(header.x5c) ? header.x5c.filter((c): c is string => typeof c === 'string') : [];
  if (x5c.length === 0) return invalid('its header has no x5c certificate chain');
  const chain = x5c.map((c) => new Uint8Array(Buffer.from(c, 'base64')));
  if (!chainsToAnchor(chain, roots, now)) return invalid('its x5c chain does not verify to the root given with --root (or a certificate is expired)');
  let payloadBytes: Uint8Array;
  try {
    const leaf = new X509Certificate(chain[0]!);
    ({ payload: payloadBytes } = await compactVerify(jwt.trim(), leaf.publicKey, { algorithms: ALGORITHMS }));
  } catch {
    return invalid('its signature does not verify with the first certificate of its chain');
  }
  let payload: { no?: unknown; nextUpdate?: unknown; entries?: unknown };
  try {
    payload = JSON.parse(new TextDecoder().decode(payloadBytes)) as typeof payload;
  } catch {
    return invalid('its payload is not JSON');
  }
  if (!Number.isSafeInteger(payload.no) || typeof payload.nextUpdate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(payload.nextUpdate) || !Array.isArray(payload.entries)) {
    return invalid('its payload lacks no, nextUpdate or entries');
  }
  const no = payload.no as number;
  const nextUpdate = payload.nextUpdate;
  const entries: AttestationMetadataEntry[] = [];
  for (const raw of payload.entries as unknown[]) {
    const entry = raw as { aaguid?: unknown; metadataStatement?: { description?: unknown; attestationRootCertificates?: unknown }; statusReports?: unknown };
    if (typeof entry.aaguid !== 'string') continue;
    const aaguid = entry.aaguid.toLowerCase();
    if (!AAGUID.test(aaguid)) return invalid(`an entry has the malformed AAGUID ${JSON.stringify(entry.aaguid)}`);
    const roots = entry.metadataStatement?.attestationRootCertificates;
    const reports = entry.statusReports;
    if (!Array.isArray(reports)) return invalid(`the entry for ${aaguid} has no statusReports`);
    // Bounds on what is stored (test/reliability/support/bounds.ts): far above any entry FIDO publishes.
    if (reports.length > 1000) return invalid(`the entry for ${aaguid} has more than 1000 status reports`);
    if (Array.isArray(roots) && JSON.stringify(roots).length > 65_536) return invalid(`the entry for ${aaguid} has more than 64 KiB of root certificates`);
    entries.push({
      aaguid,
      description: typeof entry.metadataStatement?.description === 'string' ? entry.metadataStatement.description.slice(0, 1024) : '',
      rootCertificates: Array.isArray(roots) ? roots.filter((r): r is string => typeof r === 'string') : [],
      statusReports: reports
        .filter((r): r is { status: string; effectiveDate?: unknown } => typeof r === 'object' && r !== null && typeof (r as { status?: unknown }).status === 'string')
        .map((r) => ({ status: r.status.slice(0, 64), ...(typeof r.effectiveDate === 'string' ? { effectiveDate: r.effectiveDate.slice(0, 32) } : {}) })),
      blobNo: no,
      nextUpdate,
    });
  }
  return ok({ no, nextUpdate, entries });
}

/** What trust.ts needs of a stored entry: its roots as PEM and its statuses. */
export function metadataForTrust(entry: AttestationMetadataEntry): AuthenticatorMetadata {
  return {
    rootCertificates: entry.rootCertificates.map((b64) => `-----BEGIN CERTIFICATE-----\n${b64.replace(/\s+/g, '').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`),
    statuses: entry.statusReports.map((r) => r.status),
  };
}
