import { fail, ok, type Result } from '../core/errors.ts';
import type { Account, Approval, ApprovalKind, RequestContext } from '../core/model.ts';
import type { Store } from '../store/index.ts';
import { actorAccountId, actorName, authorize, type Actor } from './adminAccess.ts';
import type { Deps } from './deps.ts';
import { isoTime, isoTimeOrNull } from '../core/time.ts';

/**
 * Two-person approvals (DESIGN.md "Assisted recovery needs two people, a delay, and notice to the
 * holder"; issue 12). One table for every request that a second administrator must approve
 * (migration 014): assisted recoveries (recovery/assisted.ts) and raising an account to `admin`
 * through the API (roles.ts). This module holds what they share: who may approve, the one
 * conditional UPDATE that approves, and how a request reads.
 */

/** Audit event names: `assisted_recovery.<step>` and `role_approval.<step>`. */
export function approvalEvent(kind: ApprovalKind, step: 'requested' | 'approved' | 'cancelled' | 'released' | 'link_issued' | 'redeemed' | 'applied'): string {
  return `${kind === 'recovery' ? 'assisted_recovery' : 'role_approval'}.${step}`;
}

/** What a request reads as: stored states, with an approved recovery split by its release time. */
export type ApprovalView = 'awaiting_approval' | 'waiting' | 'released' | 'linked' | 'applied' | 'cancelled';
export const APPROVAL_VIEWS: readonly ApprovalView[] = ['awaiting_approval', 'waiting', 'released', 'linked', 'applied', 'cancelled'];

/** No scheduler: "waiting" until `releaseAt`, then "released", read from the clock. */
export function viewOf(a: Approval, now: number): ApprovalView {
  if (a.state !== 'approved') return a.state;
  return a.releaseAt !== null && a.releaseAt > now ? 'waiting' : 'released';
}

/** A request as the admin API and `--json` answer it; never a token. */
export function describeApproval(a: Approval, holder: Pick<Account, 'username'> | undefined, now: number) {
  return {
    id: a.id,
    kind: a.kind,
    username: holder?.username ?? null,
    state: viewOf(a, now),
    requestedBy: a.requestedBy,
    reason: a.reason,
    ...(a.kind === 'recovery' ? { revokeExisting: a.revokeExisting } : { role: { from: a.roleFrom, to: a.roleTo } }),
    approvedBy: a.approvedBy,
    approvedAt: isoTimeOrNull(a.approvedAt),
    releaseAt: isoTimeOrNull(a.releaseAt),
    linkIssuedAt: a.kind === 'recovery' ? isoTimeOrNull(a.linkedAt) : null,
    cancelledBy: a.cancelledBy,
    cancelledAt: isoTimeOrNull(a.cancelledAt),
    createdAt: isoTime(a.createdAt),
  };
}

export type DescribedApproval = ReturnType<typeof describeApproval>;

/** The request by id and kind (any other kind reads as not found). */
export async function findApproval(store: Store, id: string, kind: ApprovalKind): Promise<Result<Approval>> {
  const found = /^[0-9a-f-]{36}$/.test(id) ? await store.approvals.find(id) : undefined;
  if (!found || found.kind !== kind) return fail('approval_not_found');
  return ok(found);
}

/**
 * Who may approve: an administrator's passkey session at the admin role's required level, fresh
 * (adminAccess.ts `requireAdmin`, freshness.ts: a session signed in with a code or opened by a
 * recovery has no passkey and is never fresh), and neither the requester nor the holder. The CLI
 * never approves: an operator's request with fewer than two active administrators needs no
 * approval (bootstrap, recovery/assisted.ts), and with two or more it waits for one like any other.
 */
export async function mayApprove(deps: Deps, actor: Actor, approval: Approval): Promise<Result<Extract<Actor, { kind: 'admin' }>>> {
  if (actor.kind !== 'admin') return fail('approval_not_allowed', { message: 'A request is approved by a second administrator through the API, signed in with a passkey; the CLI does not approve.' });
  const allowed = await authorize(deps, actor, { fresh: true });
  if (!allowed.ok) return allowed;
  if (actor.active.session.purpose === 'recovery' || actor.active.session.passkeyId === null) return fail('fresh_auth_required');
  const me = actorAccountId(actor);
  if (me === approval.requesterId) return fail('approval_not_allowed', { message: 'You asked for this; a second administrator must approve it.' });
  if (me === approval.accountId) return fail('approval_not_allowed', { message: 'This request is about your own account; another administrator must approve it.' });
  return ok(actor);
}

/**
 * Approves, inside the caller's transaction: one conditional UPDATE (`state = 'awaiting_approval'`),
 * so of any number of racing approvals exactly one succeeds and the rest answer `approval_conflict`.
 */
export async function approveInTx(
  tx: Store,
  approval: Approval,
  input: { actor: Actor; at: number; releaseAt: number | null; context: RequestContext | null },
): Promise<Result<Approval>> {
  const approvedBy = actorName(input.actor);
  const approverId = actorAccountId(input.actor);
  if (!(await tx.approvals.approve(approval.id, { approvedBy, approverId, at: input.at, releaseAt: input.releaseAt }))) {
    await tx.audit.append({ type: approvalEvent(approval.kind, 'approved'), outcome: 'failure', reason: 'approval_conflict', accountId: approval.accountId, context: input.context, at: input.at, details: { approval: approval.id, requestedBy: approval.requestedBy, approvedBy } });
    return fail('approval_conflict');
  }
  return ok({ ...approval, state: 'approved', approvedBy, approverId, approvedAt: input.at, releaseAt: input.releaseAt });
}

/** Audits a refused approval (outside any transaction that rolled back). */
export async function auditRefusedApproval(deps: Deps, approval: Approval, actor: Actor, code: string, context: RequestContext | null): Promise<void> {
  await deps.store.audit.append({
    type: approvalEvent(approval.kind, 'approved'),
    outcome: 'failure',
    reason: code,
    accountId: approval.accountId,
    context,
    at: deps.clock(),
    details: { approval: approval.id, requestedBy: approval.requestedBy, approvedBy: actorName(actor), reason: approval.reason },
  });
}
