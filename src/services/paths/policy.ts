import type { Role } from '../../core/model.ts';
import type { AssistedRecoverySettings, RolePathPolicy } from '../../core/paths/model.ts';
import type { Deps } from '../deps.ts';

/**
 * Assisted recovery's waiting period per role until its configuration exists (issue 12:
 * `KEYBOUND_<ROLE>_RECOVERY_DELAY`, default 24 h for `admin`, 1 h for `member`). The assisted
 * recovery service should hand its settings to `rolePathPolicy` instead, through `assisted`.
 */
export const ASSISTED_RECOVERY_DELAY_DEFAULT_MS: Readonly<Record<Role, number>> = { admin: 24 * 3_600_000, member: 3_600_000 };

/** Assisted recovery as configured for a role, with the number of active administrators. */
export function assistedRecoverySettings(deps: Deps, role: Role, activeAdmins: number): AssistedRecoverySettings {
  const configured = (deps.config.roles[role] as { recoveryDelayMs?: number }).recoveryDelayMs;
  return { enabled: true, delayMs: configured ?? ASSISTED_RECOVERY_DELAY_DEFAULT_MS[role], activeAdmins };
}

/** What path analysis needs of a role: the server's own configuration, so `analyse` and the guard agree. */
export function rolePathPolicy(deps: Deps, role: Role, activeAdmins: number): RolePathPolicy {
  return { policy: deps.policies[role], requiredAcr: deps.config.roles[role].minEffectiveAcr, assisted: assistedRecoverySettings(deps, role, activeAdmins) };
}
