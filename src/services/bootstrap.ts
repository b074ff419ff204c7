import { randomUUID } from 'node:crypto';
import type { Deps } from './deps.ts';
import { invite, type Invited } from './invitations.ts';

/** The first administrator's enrolment link lives 15 minutes. */
export const FIRST_ADMIN_LINK_TTL_MS = 15 * 60 * 1000;

/**
 * On an empty database, creates the `admin` account and its enrolment link. Instances starting
 * together agree on one bootstrapper through the settings table, so exactly one link exists.
 * @returns the invitation when this call made it, else `null`.
 */
/**
 * Whether the first administrator made at bootstrap never enrolled and has no usable link left (it
 * expired or was used without a passkey being made), so nobody can sign in as them.
 */
export async function firstAdminLinkLost(deps: Deps): Promise<boolean> {
  const admin = await deps.store.accounts.findByUsername('admin');
  if (!admin || admin.status !== 'invited' || (await deps.store.settings.get('bootstrap.first_admin')) === undefined) return false;
  return !(await deps.store.invitations.hasUsable(admin.id, deps.clock()));
}

export async function ensureFirstAdmin(deps: Deps): Promise<Invited | null> {
  if ((await deps.store.accounts.count()) > 0) return null;
  const claim = randomUUID();
  if ((await deps.store.settings.getOrCreate('bootstrap.first_admin', claim)) !== claim) return null;
  const invited = await invite(deps, { username: 'admin', role: 'admin', displayName: 'Administrator', createdBy: 'bootstrap', ttlMs: FIRST_ADMIN_LINK_TTL_MS });
  if (!invited.ok) throw new Error(`could not create the first administrator: ${invited.code}`);
  return invited.value;
}
