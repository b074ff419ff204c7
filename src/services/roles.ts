import { randomUUID } from 'node:crypto';
import { fail, ok, type Result } from '../core/errors.ts';
import type { Account, Approval, RequestContext, Role } from '../core/model.ts';
import type { Store } from '../store/index.ts';
import { actorAccountId, actorName, authorize, CLI_ACTOR, type Actor } from './adminAccess.ts';
import { approvalEvent, approveInTx, auditRefusedApproval, describeApproval, findApproval, mayApprove, type DescribedApproval } from './approvals.ts';
import { notifyHolder } from './codes/notify.ts';
import type { Deps } from './deps.ts';
import { atomically, type AfterCommit } from './atomically.ts';
import { announceToHolder } from './devices/announce.ts';
import { lockedAccount } from './lifecycle.ts';
import { guardPathChange } from './paths/guard.ts';
import { queueSecurityEvent, SSF_EVENTS } from '../ssf/events.ts';

/**
 * CAEP 1.0 §3.4 namespace (a custom one, as §3.4.1 allows) of the level a role requires: the lowest
 * NIST SP 800-63B-4 AAL its sign-ins must reach (`KEYBOUND_<ROLE>_MIN_AAL`), as `nist-aal1|2`.
 * Not a level anyone reached: what the account must reach from now on (docs/shared-signals.md).
 */
export const ROLE_LEVEL_NAMESPACE = 'keybound-role-min-aal';

/** A role change made, or (raising to admin through the API) a request awaiting a second administrator. */
export type RoleChange = { readonly kind: 'changed'; readonly account: Account; readonly from: Role } | { readonly kind: 'pending'; readonly account: Account; readonly approval: Approval };

/**
 * Keybound's tokens carry no role claim, so a role change is no token-claims-change; what
 * applications can act on is the level the account's sign-ins must now reach, when it moves
 * (CAEP 1.0 §3.4, in ROLE_LEVEL_NAMESPACE), owed to Shared Signals streams in the caller's transaction.
 */
async function queueRoleLevelChange(deps: Deps, tx: Store, change: { accountId: string; from: Role; to: Role; at: number }): Promise<void> {
  const [before, after] = [deps.policies[change.from].minAal, deps.policies[change.to].minAal];
  if (before === after) return;
  await queueSecurityEvent(deps, tx, {
    accountId: change.accountId,
    type: SSF_EVENTS.assuranceLevelChange,
    event: { namespace: ROLE_LEVEL_NAMESPACE, current_level: `nist-aal${after}`, previous_level: `nist-aal${before}`, change_direction: after > before ? 'increase' : 'decrease', initiating_entity: 'admin' },
    at: change.at,
  });
}

/**
 * Changes an account's role: the one way to, audited (`account.role_changed` with the old and new
 * role and who changed it, and who approved it), logged at warn and told to the holder, since a role
 * decides what an account may do and which sign-ins it needs.
 *
 * Raising an account to `admin` through the API needs a second administrator's approval (issue 12,
 * services/approvals.ts): the request is stored (`role_approval.requested`, told to the holder) and
 * the role changes when another administrator approves it (`approveRoleChange`). The operator's
 * CLI, which runs with the server's configuration and database, changes it at once.
 */
export async function changeRole(
  deps: Deps,
  input: { username: string; role: Role; actor?: Actor; context?: RequestContext | null },
): Promise<Result<RoleChange>> {
  const actor = input.actor ?? CLI_ACTOR;
  const allowed = await authorize(deps, actor, { fresh: true });
  if (!allowed.ok) return allowed;
  return atomically(deps, (tx, after) => changeRoleIn(deps, tx, after, { ...input, actor }));
}

/**
 * `changeRole` as a step of a larger change (a SCIM group's new members), in the caller's
 * transaction (services/atomically.ts), its log line and notices deferred to `after`. The caller
 * has admitted the actor.
 */
export async function changeRoleIn(
  deps: Deps,
  tx: Store,
  after: AfterCommit,
  input: { username: string; role: Role; actor: Actor; context?: RequestContext | null },
): Promise<Result<RoleChange>> {
  const { actor } = input;
  const by = actorName(actor);
  const context = input.context ?? null;
  const now = deps.clock();
  const found = await lockedAccount(tx, input.username);
  if (!found.ok) return found;
  const account = found.value;
  if (account.status === 'offboarded') return fail('account_status_conflict', { message: `Account ${account.username} is offboarded; its role cannot change.` });
  if (account.role === input.role) return ok({ kind: 'changed', account, from: account.role });
  if (account.id === actorAccountId(actor)) return fail('account_status_conflict', { message: 'An administrator cannot change their own role; ask another administrator.' });
  // The policy guard (docs/paths.md), read in this transaction with the account held: the account
  // must meet the new role's effective level.
  const weakens = await guardPathChange({ ...deps, store: tx }, account, { kind: 'role', role: input.role });
  if (weakens) return weakens;
  // A SCIM client never raises to admin by itself either (src/scim refuses it before this).
  if ((actor.kind === 'admin' || actor.kind === 'scim') && input.role === 'admin') {
    const approval = await requestRaise(tx, account, by, actorAccountId(actor), context, now);
    after(async () => {
      deps.log.warn({ event: approvalEvent('role', 'requested'), account: account.id, approval: approval.id, requestedBy: by }, 'security event: raising an account to admin awaits a second administrator');
      await announceToHolder(deps, account, {
        kind: 'role_raise_requested',
        subject: 'A request to make you an administrator',
        text: `${by} asked to raise your account's role from ${account.role} to admin. It takes effect only when a second administrator approves it.\n\nIf you did not expect this, tell your administrator.`,
        short: `${by} asked to make you an administrator; a second administrator must approve.`,
      }, context);
    });
    return ok({ kind: 'pending', account, approval });
  }
  await tx.accounts.setRole(account.id, input.role, now);
  await queueRoleLevelChange(deps, tx, { accountId: account.id, from: account.role, to: input.role, at: now });
  await tx.audit.append({ type: 'account.role_changed', outcome: 'success', accountId: account.id, context, at: now, details: { username: account.username, from: account.role, to: input.role, by } });
  const changed = { ...account, role: input.role };
  after(async () => {
    deps.log.warn({ event: 'account.role_changed', account: account.id, username: account.username, from: account.role, to: input.role, by }, 'security event: an account\'s role changed');
    await notifyHolder(deps, changed, { kind: 'role_changed', from: account.role, to: input.role }, context);
  });
  return ok({ kind: 'changed', account: changed, from: account.role });
}

async function requestRaise(tx: Store, account: Account, by: string, requesterId: string | null, context: RequestContext | null, at: number): Promise<Approval> {
  const pending = await tx.approvals.list({ kind: 'role', accountId: account.id, states: ['awaiting_approval'], limit: 1 });
  if (pending[0]) return pending[0];
  const approval: Approval = {
    id: randomUUID(),
    kind: 'role',
    accountId: account.id,
    state: 'awaiting_approval',
    requestedBy: by,
    requesterId,
    reason: null,
    revokeExisting: false,
    roleFrom: account.role,
    roleTo: 'admin',
    approvedBy: null,
    approverId: null,
    approvedAt: null,
    releaseAt: null,
    releaseNoticedAt: null,
    invitationId: null,
    linkedAt: null,
    cancelledBy: null,
    cancelledAt: null,
    createdAt: at,
  };
  await tx.approvals.create(approval);
  await tx.audit.append({ type: approvalEvent('role', 'requested'), outcome: 'success', accountId: account.id, context, at, details: { approval: approval.id, username: account.username, from: account.role, to: 'admin', requestedBy: by } });
  return approval;
}

/**
 * A second administrator approves raising an account to admin (the one conditional UPDATE of
 * approvals.ts): the role changes in the same transaction, audited with the old and new role, the
 * requester and the approver, and told to the holder.
 */
export async function approveRoleChange(deps: Deps, input: { id: string; actor: Actor; context: RequestContext }): Promise<Result<{ account: Account; from: Role; approval: Approval }>> {
  const found = await findApproval(deps.store, input.id, 'role');
  if (!found.ok) return found;
  const approver = await mayApprove(deps, input.actor, found.value);
  if (!approver.ok) {
    await auditRefusedApproval(deps, found.value, input.actor, approver.code, input.context);
    return approver;
  }
  // The policy guard again at approval (docs/paths.md): the holder's ways in may have changed since
  // the request, each checked then against the old role only.
  const holder = await deps.store.accounts.findById(found.value.accountId);
  if (holder && found.value.roleTo && holder.role !== found.value.roleTo) {
    const weakens = await guardPathChange(deps, holder, { kind: 'role', role: found.value.roleTo });
    if (weakens) return weakens;
  }
  const at = deps.clock();
  const result = await deps.store.transaction(async (tx): Promise<Result<{ account: Account; from: Role; approval: Approval }>> => {
    await tx.accounts.lock(found.value.accountId);
    const account = await tx.accounts.findById(found.value.accountId);
    if (!account) return fail('approval_not_found');
    // Checked before the approval is written: a failure returned here commits nothing.
    if (found.value.state === 'awaiting_approval' && (account.status === 'offboarded' || account.status === 'suspended' || account.role !== found.value.roleFrom)) {
      return fail('account_status_conflict', { message: `Account ${account.username} is ${account.status} with role ${account.role}; this request no longer applies. Cancel it.` });
    }
    const approved = await approveInTx(tx, found.value, { actor: input.actor, at, releaseAt: null, context: input.context });
    if (!approved.ok) return approved;
    const a = approved.value;
    await tx.accounts.setRole(account.id, a.roleTo!, at);
    await queueRoleLevelChange(deps, tx, { accountId: account.id, from: account.role, to: a.roleTo!, at });
    await tx.approvals.markApplied(a.id, at);
    const details = { username: account.username, from: account.role, to: a.roleTo, by: a.requestedBy, requestedBy: a.requestedBy, approvedBy: a.approvedBy, approval: a.id };
    await tx.audit.append({ type: approvalEvent('role', 'approved'), outcome: 'success', accountId: account.id, context: input.context, at, details });
    await tx.audit.append({ type: 'account.role_changed', outcome: 'success', accountId: account.id, context: input.context, at, details });
    return ok({ account: { ...account, role: a.roleTo! }, from: account.role, approval: { ...a, state: 'applied' } });
  });
  if (!result.ok) return result;
  const { account, from, approval } = result.value;
  deps.log.warn({ event: 'account.role_changed', account: account.id, username: account.username, from, to: account.role, by: approval.requestedBy, approvedBy: approval.approvedBy }, 'security event: an account\'s role changed');
  await notifyHolder(deps, account, { kind: 'role_changed', from, to: account.role }, input.context);
  return result;
}

/** Withdraws a request to raise a role: any administrator, or the operator. */
export async function cancelRoleChange(deps: Deps, input: { id: string; actor: Actor; context: RequestContext }): Promise<Result<Approval>> {
  const allowed = await authorize(deps, input.actor, { fresh: false });
  if (!allowed.ok) return allowed;
  const found = await findApproval(deps.store, input.id, 'role');
  if (!found.ok) return found;
  const by = actorName(input.actor);
  const at = deps.clock();
  if (!(await deps.store.approvals.cancel(found.value.id, { by, at, from: ['awaiting_approval'] }))) return fail('approval_conflict');
  await deps.store.audit.append({ type: approvalEvent('role', 'cancelled'), outcome: 'success', accountId: found.value.accountId, context: input.context, at, details: { approval: found.value.id, requestedBy: found.value.requestedBy, cancelledBy: by, from: found.value.roleFrom, to: found.value.roleTo } });
  return ok({ ...found.value, state: 'cancelled', cancelledBy: by, cancelledAt: at });
}

/** Requests to raise an account to admin, newest first (at most 200): the console's approvals queue. */
export async function listRoleChanges(deps: Deps, input: { actor: Actor }): Promise<Result<DescribedApproval[]>> {
  const allowed = await authorize(deps, input.actor, { fresh: false });
  if (!allowed.ok) return allowed;
  const now = deps.clock();
  const out: DescribedApproval[] = [];
  for (const row of await deps.store.approvals.list({ kind: 'role', limit: 200 })) out.push(describeApproval(row, await deps.store.accounts.findById(row.accountId), now));
  return ok(out);
}
