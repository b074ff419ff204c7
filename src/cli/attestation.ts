import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../config/load.ts';
import { errorMessage } from '../core/errors.ts';
import { importMetadata } from '../services/attestationMetadata.ts';
import type { Deps } from '../services/deps.ts';

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

function fail(message: string): never {
  process.stderr.write(`keybound: ${message}\n`);
  process.exit(1);
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    return fail(`cannot read ${what} ${path} (${(error as Error).message})`);
  }
}

/** `keybound attestation ...`: FIDO metadata, imported offline (README "Attestation as policy"). */
export function registerAttestationCommands(program: Command, withDeps: WithDeps): void {
  const attestation = program.command('attestation').description('authenticator attestation trust');
  attestation
    .command('import-mds')
    .description('verify a FIDO Metadata Service (MDS3) BLOB against the FIDO root and store its entries; nothing is downloaded')
    .argument('<blob.jwt>', 'the BLOB, downloaded by you from https://mds3.fidoalliance.org/')
    .option('--root <cert.pem>', "FIDO's MDS root certificate (PEM), downloaded by you from the FIDO Alliance site (default KEYBOUND_ATTESTATION_MDS_ROOT)")
    .option('--json', 'print {"no", "nextUpdate", "entries"} as JSON')
    .action(async (blobPath: string, options: { root?: string; json?: boolean }) => {
      const blob = readText(blobPath, 'the BLOB');
      const result = await withDeps(async (deps, config) => {
        const rootPath = options.root ?? config.attestationMdsRoot;
        if (!rootPath) fail('give the FIDO root certificate with --root <cert.pem> (or set KEYBOUND_ATTESTATION_MDS_ROOT)');
        const roots = readText(rootPath, 'the root certificate').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
        if (roots.length === 0) fail(`${rootPath} holds no PEM certificate`);
        return importMetadata(deps, { blob, roots });
      });
      if (!result.ok) fail(result.message ?? errorMessage(result.code));
      const { no, nextUpdate, entries } = result.value;
      process.stdout.write(options.json ? `${JSON.stringify({ no, nextUpdate, entries })}\n` : `Imported FIDO metadata BLOB no. ${no} (${entries} authenticator models, next update ${nextUpdate}).\n`);
    });
}
