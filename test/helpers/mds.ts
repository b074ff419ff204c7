/**
 * FIDO Metadata Service (MDS3) BLOBs for tests: a JWT whose x5c chain (signer, then intermediate)
 * ends at a test root made in the test, signed ES256 by the signer. Shaped like the real BLOB
 * (https://mds3.fidoalliance.org/), with only the fields Keybound reads plus a few for realism.
 */
import { CompactSign } from 'jose';
import { certificate, p256, rootCa, type TestCertificate } from './x509.ts';

export interface MdsSigner {
  readonly root: TestCertificate;
  readonly chain: readonly TestCertificate[];
}

/** A test "FIDO root" with an intermediate and a BLOB-signing certificate under it. */
export function mdsSigner(cn = 'Test FIDO Alliance Root'): MdsSigner {
  const root = rootCa(cn);
  const intermediate = certificate({ subject: { C: 'US', O: 'Keybound Tests', CN: `${cn} CA-1` }, issuer: { name: root.name, privateKey: root.privateKey }, ...p256(), ca: true });
  const signer = certificate({ subject: { C: 'US', O: 'Keybound Tests', CN: 'Test Metadata BLOB Signer' }, issuer: { name: intermediate.name, privateKey: intermediate.privateKey }, ...p256(), ca: false });
  return { root, chain: [signer, intermediate] };
}

export interface MdsEntrySpec {
  readonly aaguid: string;
  readonly description?: string;
  readonly roots: readonly TestCertificate[];
  readonly statuses?: readonly string[];
}

/** The payload's `entries` element for one authenticator model. */
export function mdsEntry(spec: MdsEntrySpec) {
  return {
    aaguid: spec.aaguid,
    metadataStatement: {
      aaguid: spec.aaguid,
      description: spec.description ?? 'Test Security Key',
      schema: 3,
      attestationTypes: ['basic_full'],
      attestationRootCertificates: spec.roots.map((r) => Buffer.from(r.der).toString('base64')),
    },
    statusReports: (spec.statuses ?? ['FIDO_CERTIFIED_L1']).map((status) => ({ status, effectiveDate: '2025-01-01' })),
    timeOfLastStatusChange: '2025-01-01',
  };
}

/** Signs a BLOB with `signer`'s chain. */
export async function mdsBlob(signer: MdsSigner, payload: { no: number; nextUpdate?: string; entries: readonly unknown[] }): Promise<string> {
  const body = { legalHeader: 'Test data, not FIDO metadata.', no: payload.no, nextUpdate: payload.nextUpdate ?? '2027-01-01', entries: payload.entries };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(body)))
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: signer.chain.map((c) => Buffer.from(c.der).toString('base64')) })
    .sign(signer.chain[0]!.privateKey);
}
