import { fail, ok, type Result } from '../core/errors.ts';
import type { AttestationMetadataBlob } from '../store/ports.ts';
import { metadataForTrust, verifyMdsBlob } from '../webauthn/mds.ts';
import type { AuthenticatorMetadata } from '../webauthn/trust.ts';
import type { Deps } from './deps.ts';

/**
 * Imports a FIDO Metadata Service BLOB (README "Attestation as policy"): verified offline against
 * `roots` (PEM, the FIDO root the administrator downloaded), then its entries replace the stored
 * ones, with an audit event, in one transaction.
 */
export async function importMetadata(deps: Deps, input: { blob: string; roots: readonly string[] }): Promise<Result<AttestationMetadataBlob>> {
  const now = deps.clock();
  const verified = await verifyMdsBlob(input.blob, input.roots, now);
  if (!verified.ok) return verified;
  const { no, nextUpdate, entries } = verified.value;
  const record: AttestationMetadataBlob = { no, nextUpdate, importedAt: now, entries: entries.length };
  const replaced = await deps.store.transaction(async (tx) => {
    if (!(await tx.attestationMetadata.replace(record, entries))) return false;
    await tx.audit.append({ type: 'attestation.metadata_imported', outcome: 'success', at: now, details: { no, nextUpdate, entries: entries.length } });
    return true;
  });
  return replaced ? ok(record) : fail('metadata_blob_not_newer');
}

/** The lookup registration uses: imported metadata for an AAGUID, as trust.ts reads it. */
export function metadataLookup(deps: Deps): (aaguid: string) => Promise<AuthenticatorMetadata | undefined> {
  return async (aaguid) => {
    const entry = await deps.store.attestationMetadata.find(aaguid);
    return entry ? metadataForTrust(entry) : undefined;
  };
}
