import { ACR, type Assurance, type FactorEvidence } from '../../core/assurance/level.ts';
import { fail, type Failure } from '../../core/errors.ts';
import type { Role } from '../../core/model.ts';
import type { Deps } from '../deps.ts';

/**
 * The migration window of a role (README "Importing accounts"): open while
 * `KEYBOUND_<ROLE>_MIGRATION_UNTIL` is set and not yet reached; closed (for every account of the
 * role, whatever it knows) otherwise.
 */
export function migrationClosed(deps: Deps, role: Role): Failure | null {
  const until = deps.config.roles[role].migration.until;
  return until !== null && deps.clock() < until ? null : fail('migration_closed');
}

/** Whether any role's window is open: if none is, every request is refused before anything is checked. */
export function anyMigrationOpen(deps: Deps): boolean {
  return Object.values(deps.config.roles).some((r) => r.migration.until !== null && deps.clock() < r.migration.until);
}

/**
 * What a migration session proves: the old password (RFC 8176 `pwd`), and an imported TOTP code
 * where there was one (`otp`). AAL1 whatever it is (NIST SP 800-63B-4: a password is one factor,
 * and this session's one power is to bind a passkey, which then signs in at its own level).
 */
export function migrationAssurance(factors: readonly FactorEvidence[]): Assurance {
  const amr = ['pwd', ...(factors.some((f) => f.kind === 'totp') ? ['otp'] : [])];
  return { aal: 1, acr: ACR.aal1, phishingResistant: false, amr, reasons: ['migration_password'] };
}
