import type { Role } from '../../core/model.ts';
import type { AssistedRecoverySettings, RolePathPolicy } from '../../core/paths/model.ts';
import type { Deps } from '../deps.ts';

/**
 * Assisted recovery as configured for a role (README "Assisted recovery"): the role's
 * `KEYBOUND_<ROLE>_RECOVERY_DELAY`, and a second administrator's approval when two or more are
 * active (fewer: the operator's CLI requests alone, services/recovery/assisted.ts).
 */
export function assistedRecoverySettings(deps: Deps, role: Role, activeAdmins: number): AssistedRecoverySettings {
  return { enabled: true, delayMs: deps.config.roles[role].recoveryDelayMs, activeAdmins };
}

/** What path analysis needs of a role: the server's own configuration, so `analyse` and the guard agree. */
export function rolePathPolicy(deps: Deps, role: Role, activeAdmins: number): RolePathPolicy {
  return { policy: deps.policies[role], requiredAcr: deps.config.roles[role].minEffectiveAcr, assisted: assistedRecoverySettings(deps, role, activeAdmins) };
}
