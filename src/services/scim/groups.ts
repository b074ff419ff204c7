import { fail, ok, type Result } from '../../core/errors.ts';
import { ROLES, type Role } from '../../core/model.ts';
import { SCIM } from '../../core/scim/user.ts';
import { authorize } from '../adminAccess.ts';
import { atomically } from '../atomically.ts';
import { changeRoleIn } from '../roles.ts';
import type { Deps } from '../deps.ts';
import type { ScimCall } from './users.ts';

/**
 * SCIM groups are Keybound's roles (docs/scim.md): one group per role, its id and displayName the
 * role's name, its members the live accounts that have it. Membership is changed by PATCH (RFC
 * 7644 §3.5.2) with `add` on `members`: the account's role becomes the group's (every account has
 * exactly one, so `remove` is refused: add it to the other group). The admin group is read-only:
 * SCIM never grants or takes away the admin role.
 */
export const MAX_MEMBERS = 1000;

const isRole = (id: string): id is Role => (ROLES as readonly string[]).includes(id);

export async function renderGroup(deps: Deps, role: Role, base: string): Promise<Record<string, unknown>> {
  const members = await deps.store.scim.membersOf(role, MAX_MEMBERS);
  return {
    schemas: [SCIM.group],
    id: role,
    displayName: role,
    members: members.map((a) => ({ value: a.id, display: a.username, $ref: `${base}/Users/${a.id}`, type: 'User' })),
    meta: { resourceType: 'Group', location: `${base}/Groups/${role}` },
  };
}

export async function getGroup(deps: Deps, id: string, base: string): Promise<Result<Record<string, unknown>>> {
  return isRole(id) ? ok(await renderGroup(deps, id, base)) : fail('scim_not_found', { message: `No group ${id}.` });
}

/** RFC 7644 §3.4.2: `displayName eq "..."` (how provisioning clients look a group up) or everything. */
export async function listGroups(deps: Deps, input: { filter?: string; base: string }): Promise<Result<Record<string, unknown>>> {
  let roles: Role[] = [...ROLES];
  if (input.filter !== undefined) {
    const match = /^\s*displayName\s+eq\s+"([^"\\]*)"\s*$/i.exec(input.filter);
    if (!match) return fail('scim_invalid_filter', { message: 'Groups are filtered by displayName eq "<role>" only.' });
    roles = roles.filter((r) => r === match[1]);
  }
  const resources = await Promise.all(roles.map((r) => renderGroup(deps, r, input.base)));
  return ok({ schemas: [SCIM.list], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources });
}

/** PATCH membership: `add` of `members` moves each named user into this role. */
export async function patchGroup(deps: Deps, call: ScimCall, id: string, body: Record<string, unknown>): Promise<Result<Record<string, unknown>>> {
  if (!isRole(id)) return fail('scim_not_found', { message: `No group ${id}.` });
  if (id === 'admin') return fail('scim_account_protected');
  const operations = body.Operations;
  if (!Array.isArray(body.schemas) || !body.schemas.includes(SCIM.patch) || !Array.isArray(operations)) return fail('scim_invalid_syntax', { message: 'A PATCH body has schemas [PatchOp] and Operations.' });
  const userIds: string[] = [];
  for (const op of operations as { op?: unknown; path?: unknown; value?: unknown }[]) {
    const kind = typeof op?.op === 'string' ? op.op.toLowerCase() : '';
    const path = typeof op?.path === 'string' ? op.path : undefined;
    if (kind === 'remove') return fail('scim_mutability', { message: 'Every account has exactly one role: add the user to the other group instead of removing it.' });
    if (kind !== 'add' && kind !== 'replace') return fail('scim_invalid_syntax', { message: 'op is add, replace or remove.' });
    // The members, as `path: "members"` with a list, or path-less with {"members": [...]}.
    const list = path?.toLowerCase() === 'members' ? op.value : path === undefined && typeof op.value === 'object' && op.value !== null ? (op.value as Record<string, unknown>).members : undefined;
    if (path !== undefined && path.toLowerCase() !== 'members') return fail('scim_mutability', { message: `${path} of a group does not change.` });
    if (!Array.isArray(list)) return fail('scim_invalid_value', { message: 'members is a list of {"value": "<user id>"}.' });
    for (const m of list as { value?: unknown }[]) {
      // eslint-disable-next-line no-control-regex
      if (typeof m?.value !== 'string' || m.value.length > 64 || /[\u0000-\u001f\u007f]/.test(m.value)) return fail('scim_invalid_value', { message: 'Each member is {"value": "<user id>"}.' });
      userIds.push(m.value);
      // One request moves at most as many members as a group shows (its work is one transaction).
      if (userIds.length > MAX_MEMBERS) return fail('scim_invalid_value', { message: `One PATCH adds at most ${MAX_MEMBERS} members.` });
    }
  }
  // One change (RFC 7644 §3.5.2): every member moves, or none does (services/atomically.ts).
  const allowed = await authorize(deps, call.actor, { fresh: true });
  if (!allowed.ok) return allowed;
  const moved = await atomically(deps, async (tx, after): Promise<Result<null>> => {
    for (const userId of userIds) {
      await tx.accounts.lock(userId);
      const record = await tx.scim.find(userId);
      if (!record) return fail('scim_invalid_value', { message: `No user ${userId}.` });
      if (record.account.role === 'admin') return fail('scim_account_protected');
      const changed = await changeRoleIn(deps, tx, after, { username: record.account.username, role: id, actor: call.actor, context: call.context });
      if (!changed.ok) return changed;
      await tx.scim.touch(userId, deps.clock());
    }
    return ok(null);
  });
  if (!moved.ok) return moved;
  return ok(await renderGroup(deps, id, call.base));
}
