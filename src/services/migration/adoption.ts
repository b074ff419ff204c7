import { ROLES, type Role } from '../../core/model.ts';
import type { Deps } from '../deps.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** One role's move to passkeys (`keybound adoption`, README "Importing accounts"). */
export interface RoleAdoption {
  readonly role: Role;
  /** Invited or active accounts with an active passkey. */
  readonly enrolled: number;
  /** Invited or active accounts without one (imported or not). */
  readonly pending: number;
  /** Of `pending`, those brought in by `keybound import`. */
  readonly pendingImported: number;
  /** `pending` once the role's migration date has passed: they can no longer move with a password. */
  readonly overdue: number;
  /** The first instant the password path is closed (ISO 8601), or null when the role has none. */
  readonly migrationUntil: string | null;
  /** Whole days until then (0 on the last day, negative after it); null without a date. */
  readonly daysLeft: number | null;
}

export async function adoption(deps: Deps): Promise<RoleAdoption[]> {
  const counts = await deps.store.imports.adoption();
  const now = deps.clock();
  return ROLES.map((role) => {
    const c = counts.find((x) => x.role === role) ?? { enrolled: 0, pending: 0, imported: 0 };
    const until = deps.config.roles[role].migration.until;
    const daysLeft = until === null ? null : until > now ? Math.ceil((until - now) / DAY_MS) - 1 : -Math.ceil((now - until + 1) / DAY_MS);
    return {
      role,
      enrolled: c.enrolled,
      pending: c.pending,
      pendingImported: c.imported,
      overdue: until !== null && now >= until ? c.pending : 0,
      migrationUntil: until === null ? null : new Date(until).toISOString(),
      daysLeft,
    };
  });
}
