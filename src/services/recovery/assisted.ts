import { randomUUID } from 'node:crypto';
import { fail, ok, type Result } from '../../core/errors.ts';
import type { Account, Approval, Invitation, RequestContext } from '../../core/model.ts';
import { hashSecret, newToken } from '../../core/tokens.ts';
import type { Store } from '../../store/index.ts';
import { actorAccountId, actorName, authorize, type Actor } from '../adminAccess.ts';
import { approvalEvent, approveInTx, auditRefusedApproval, describeApproval, findApproval, mayApprove, viewOf, type ApprovalView, type DescribedApproval } from '../approvals.ts';
import type { Deps } from '../deps.ts';
import { enrolmentUrl } from '../invitations.ts';
import { checkReason, lockedAccount, revokeAccountAccess } from '../lifecycle.ts';
import type { ActiveSession } from '../sessions.ts';
import { announceRecovery } from './assistedNotices.ts';

/**
 * Assisted recovery (README "Recovery"; issue 12; NIST SP 800-63B-4 §4.2 account recovery; DESIGN.md
 * "Assisted recovery needs two people, a delay, and notice to the holder with a way to cancel"). For a
 * holder who has lost every authenticator: an administrator (or the operator's CLI) requests it with a
 * reason; a second administrator, neither the requester nor the holder, approves it from a fresh
 * passkey session; it then waits the holder's role's delay (`KEYBOUND_<ROLE>_RECOVERY_DELAY`), during
 * which the holder, told on every bound channel at each step, can cancel it from /account; once
 * released, the requester gets one single-use enrolment link, valid 15 minutes.
 *
 * There is no scheduler. "waiting" and "released" are read from `releaseAt` and the clock
 * (approvals.ts `viewOf`), and the release notice is sent by whichever comes first after `releaseAt`:
 * a read of the request (admin API, CLI, the holder's /account) or the link being issued, which
 * always sends it first if nobody had. One conditional UPDATE claims the notice, so it goes once.
 */

/** How long the enrolment link of a released recovery works. */
export const RECOVERY_LINK_TTL_MS = 15 * 60_000;
/** The admin API lists at most this many, newest first. */
export const RECOVERY_LIST_LIMIT = 200;

/** The operator's request when fewer than two active administrators exist: no one else to approve. */
export const BOOTSTRAP_APPROVER = 'cli:bootstrap';

export interface RecoveryRequest {
  readonly username: string;
  readonly reason: string;
  readonly revokeExisting: boolean;
  readonly actor: Actor;
  readonly context: RequestContext;
}

/** Requests an assisted recovery: `awaiting_approval`, or for a bootstrap CLI request, approved and waiting. */
export async function requestRecovery(deps: Deps, input: RecoveryRequest): Promise<Result<{ approval: Approval; account: Account; bootstrap: boolean }>> {
  const allowed = await authorize(deps, input.actor, { fresh: true });
  if (!allowed.ok) return allowed;
  const reason = checkReason(input.reason);
  if (!reason.ok) return reason;
  if (reason.value === null) return fail('invalid_request', { message: 'An assisted recovery needs a reason: who asked, and how they were identified.' });
  const requestedBy = actorName(input.actor);
  const at = deps.clock();
  const result = await deps.store.transaction(async (tx): Promise<Result<{ approval: Approval; account: Account; bootstrap: boolean }>> => {
    const found = await lockedAccount(tx, input.username);
    if (!found.ok) return found;
    const account = found.value;
    const refused = (code: 'account_status_conflict' | 'approval_not_allowed' | 'approval_conflict', message: string) => fail(code, { message });
    if (account.id === actorAccountId(input.actor)) return refused('approval_not_allowed', 'An administrator cannot request a recovery of their own account; ask another administrator.');
    if (account.status === 'invited') return refused('account_status_conflict', `Account ${account.username} has not enrolled yet: send it a new enrolment link with npx keybound invite ${account.username}.`);
    // Suspension and offboarding refuse every recovery (README "Account lifecycle").
    if (account.status !== 'active') return refused('account_status_conflict', `Account ${account.username} is ${account.status}; it cannot be recovered.`);
    const pending = await tx.approvals.list({ kind: 'recovery', accountId: account.id, states: ['awaiting_approval', 'approved'], limit: 1 });
    if (pending.length > 0) return refused('approval_conflict', `A recovery of ${account.username} is pending already (${pending[0]!.id}); cancel it first.`);
    // Bootstrap (README "Recovery"): with fewer than two active administrators nobody could approve;
    // the operator's request then needs no approval, but still waits the delay and is announced.
    const bootstrap = input.actor.kind === 'cli' && (await tx.accounts.countActiveAdmins()) < 2;
    const releaseAt = bootstrap ? at + deps.config.roles[account.role].recoveryDelayMs : null;
    const approval: Approval = {
      id: randomUUID(),
      kind: 'recovery',
      accountId: account.id,
      state: bootstrap ? 'approved' : 'awaiting_approval',
      requestedBy,
      requesterId: actorAccountId(input.actor),
      reason: reason.value,
      revokeExisting: input.revokeExisting,
      roleFrom: null,
      roleTo: null,
      approvedBy: bootstrap ? BOOTSTRAP_APPROVER : null,
      approverId: null,
      approvedAt: bootstrap ? at : null,
      releaseAt,
      releaseNoticedAt: null,
      invitationId: null,
      linkedAt: null,
      cancelledBy: null,
      cancelledAt: null,
      createdAt: at,
    };
    await tx.approvals.create(approval);
    const details = { approval: approval.id, username: account.username, requestedBy, reason: reason.value, revokeExisting: input.revokeExisting };
    await tx.audit.append({ type: approvalEvent('recovery', 'requested'), outcome: 'success', reason: reason.value, accountId: account.id, context: input.context, at, details: { ...details, bootstrap } });
    if (bootstrap) {
      await tx.audit.append({ type: approvalEvent('recovery', 'approved'), outcome: 'success', reason: reason.value, accountId: account.id, context: input.context, at, details: { ...details, approvedBy: BOOTSTRAP_APPROVER, releaseAt, activeAdmins: 'fewer than 2' } });
    }
    return ok({ approval, account, bootstrap });
  });
  if (!result.ok) return result;
  const { approval, account } = result.value;
  deps.log.warn({ event: approvalEvent('recovery', 'requested'), account: account.id, username: account.username, approval: approval.id, requestedBy, bootstrap: result.value.bootstrap }, 'security event: an assisted recovery was requested');
  await announceRecovery(deps, account, approval, 'requested', input.context);
  await noteRelease(deps, approval, account, input.context);
  return result;
}

/** A second administrator approves: the one conditional UPDATE; then the delay runs. */
export async function approveRecovery(deps: Deps, input: { id: string; actor: Actor; context: RequestContext }): Promise<Result<Approval>> {
  const found = await findApproval(deps.store, input.id, 'recovery');
  if (!found.ok) return found;
  const approver = await mayApprove(deps, input.actor, found.value);
  if (!approver.ok) {
    await auditRefusedApproval(deps, found.value, input.actor, approver.code, input.context);
    return approver;
  }
  const at = deps.clock();
  const result = await deps.store.transaction(async (tx): Promise<Result<{ approval: Approval; account: Account }>> => {
    const holder = await holderOf(tx, found.value);
    if (!holder.ok) return holder;
    const releaseAt = at + deps.config.roles[holder.value.role].recoveryDelayMs;
    const approved = await approveInTx(tx, found.value, { actor: input.actor, at, releaseAt, context: input.context });
    if (!approved.ok) return approved;
    const a = approved.value;
    await tx.audit.append({
      type: approvalEvent('recovery', 'approved'),
      outcome: 'success',
      reason: a.reason,
      accountId: a.accountId,
      context: input.context,
      at,
      details: { approval: a.id, username: holder.value.username, requestedBy: a.requestedBy, approvedBy: a.approvedBy, reason: a.reason, revokeExisting: a.revokeExisting, releaseAt },
    });
    return ok({ approval: a, account: holder.value });
  });
  if (!result.ok) return result;
  const { approval, account } = result.value;
  deps.log.warn({ event: approvalEvent('recovery', 'approved'), account: account.id, approval: approval.id, requestedBy: approval.requestedBy, approvedBy: approval.approvedBy }, 'security event: an assisted recovery was approved');
  await announceRecovery(deps, account, approval, 'approved', input.context);
  await noteRelease(deps, approval, account, input.context);
  return ok(approval);
}

/** The holder of a request, its row taken; refused unless active (suspended, offboarded: no recovery). */
async function holderOf(tx: Store, approval: Approval): Promise<Result<Account>> {
  await tx.accounts.lock(approval.accountId);
  const account = await tx.accounts.findById(approval.accountId);
  if (!account) return fail('approval_not_found');
  if (account.status !== 'active') return fail('account_status_conflict', { message: `Account ${account.username} is ${account.status}; it cannot be recovered.` });
  return ok(account);
}

/** Who cancels: an administrator or the operator (`actor`), or the holder from their own passkey session. */
export type Canceller = { readonly actor: Actor } | { readonly holder: ActiveSession };

/**
 * Cancels a recovery that is awaiting approval, waiting, released, or whose link is not used yet (the
 * link stops working). Any administrator may (requester, approver or another), the operator, or the
 * holder from a session signed in with a passkey (README "Recovery": the holder can cancel).
 */
export async function cancelRecovery(deps: Deps, input: { id: string; by: Canceller; context: RequestContext }): Promise<Result<Approval>> {
  let by: string;
  if ('actor' in input.by) {
    const allowed = await authorize(deps, input.by.actor, { fresh: false });
    if (!allowed.ok) return allowed;
    by = actorName(input.by.actor);
  } else {
    const { session, account } = input.by.holder;
    if (session.passkeyId === null || session.purpose === 'recovery') return fail('fresh_auth_required', { message: 'Sign in with one of your passkeys to cancel a recovery of your account.' });
    by = `holder:${account.username}`;
  }
  const found = await findApproval(deps.store, input.id, 'recovery');
  if (!found.ok) return found;
  if ('holder' in input.by && found.value.accountId !== input.by.holder.account.id) return fail('approval_not_found');
  const at = deps.clock();
  const result = await deps.store.transaction(async (tx): Promise<Result<{ approval: Approval; account: Account }>> => {
    await tx.accounts.lock(found.value.accountId);
    const account = await tx.accounts.findById(found.value.accountId);
    if (!account) return fail('approval_not_found');
    const current = (await tx.approvals.find(found.value.id))!;
    // A link already used enrolled its passkey: that recovery is done, not cancellable.
    if (current.state === 'linked' && current.invitationId) {
      const invitation = await tx.invitations.find(current.invitationId);
      if (invitation?.usedAt != null) return fail('approval_conflict', { message: 'This recovery is complete: its link was used.' });
    }
    if (!(await tx.approvals.cancel(current.id, { by, at, from: ['awaiting_approval', 'approved', 'linked'] }))) {
      return fail('approval_conflict', { message: `This recovery is ${viewOf(current, at)}; it cannot be cancelled.` });
    }
    if (current.state === 'linked') await tx.invitations.revokeForAccount(current.accountId, at, 'recovery');
    await tx.audit.append({
      type: approvalEvent('recovery', 'cancelled'),
      outcome: 'success',
      reason: current.reason,
      accountId: current.accountId,
      context: input.context,
      at,
      details: { approval: current.id, username: account.username, requestedBy: current.requestedBy, approvedBy: current.approvedBy, cancelledBy: by, reason: current.reason, was: viewOf(current, at) },
    });
    return ok({ approval: { ...current, state: 'cancelled', cancelledBy: by, cancelledAt: at }, account });
  });
  if (!result.ok) return result;
  deps.log.warn({ event: approvalEvent('recovery', 'cancelled'), account: result.value.account.id, approval: input.id, cancelledBy: by }, 'security event: an assisted recovery was cancelled');
  await announceRecovery(deps, result.value.account, result.value.approval, 'cancelled', input.context);
  return ok(result.value.approval);
}

export interface RecoveryLink {
  readonly url: string;
  readonly expiresAt: number;
}

/**
 * After `releaseAt`, the requester (the same administrator, or the operator for a CLI request) gets
 * the enrolment link, once: one conditional UPDATE (approved and released -> linked) makes a second
 * call, however close, answer `recovery_link_issued`. The token is shown here once and stored hashed.
 */
export async function issueRecoveryLink(deps: Deps, input: { id: string; actor: Actor; context: RequestContext }): Promise<Result<RecoveryLink>> {
  const allowed = await authorize(deps, input.actor, { fresh: true });
  if (!allowed.ok) return allowed;
  const found = await findApproval(deps.store, input.id, 'recovery');
  if (!found.ok) return found;
  const approval = found.value;
  if (actorName(input.actor) !== approval.requestedBy) {
    return fail('approval_not_allowed', { message: `Only the requester (${approval.requestedBy}) gets this recovery's link.` });
  }
  const at = deps.clock();
  const view = viewOf(approval, at);
  if (view === 'awaiting_approval') return fail('recovery_not_released', { message: 'This recovery awaits a second administrator\'s approval; its delay starts then.' });
  if (view === 'waiting') {
    return fail('recovery_not_released', { retryAfter: Math.max(1, Math.ceil((approval.releaseAt! - at) / 1000)), message: `This recovery is released at ${new Date(approval.releaseAt!).toISOString()}, so the holder can cancel it until then.` });
  }
  if (view === 'linked') return fail('recovery_link_issued');
  if (view !== 'released') return fail('approval_conflict', { message: `This recovery is ${view}.` });
  // The holder hears of the release before the link exists.
  const holder = await deps.store.accounts.findById(approval.accountId);
  if (holder) await noteRelease(deps, approval, holder, input.context);
  const token = newToken(deps.random);
  const invitation: Invitation = {
    id: token.id,
    accountId: approval.accountId,
    secretHash: hashSecret(token.secret),
    createdBy: approval.requestedBy,
    createdAt: at,
    expiresAt: at + RECOVERY_LINK_TTL_MS,
    usedAt: null,
    kind: 'recovery',
  };
  const result = await deps.store.transaction(async (tx): Promise<Result<Account>> => {
    const account = await holderOf(tx, approval);
    if (!account.ok) return account;
    if (!(await tx.approvals.markLinked(approval.id, { invitationId: invitation.id, at }))) {
      const now = (await tx.approvals.find(approval.id))!;
      return now.state === 'linked' ? fail('recovery_link_issued') : fail('approval_conflict', { message: `This recovery is ${viewOf(now, at)}.` });
    }
    await tx.invitations.revokeForAccount(approval.accountId, at, 'recovery');
    await tx.invitations.create(invitation);
    await tx.audit.append({
      type: approvalEvent('recovery', 'link_issued'),
      outcome: 'success',
      reason: approval.reason,
      accountId: approval.accountId,
      context: input.context,
      at,
      details: { approval: approval.id, username: account.value.username, invitation: invitation.id, expiresAt: invitation.expiresAt, requestedBy: approval.requestedBy, approvedBy: approval.approvedBy, reason: approval.reason },
    });
    return account;
  });
  if (!result.ok) return result;
  deps.log.warn({ event: approvalEvent('recovery', 'link_issued'), account: approval.accountId, approval: approval.id, requestedBy: approval.requestedBy }, 'security event: an assisted recovery link was issued');
  return ok({ url: enrolmentUrl(deps.config.publicUrl, token.token), expiresAt: invitation.expiresAt });
}

/**
 * The release notice, sent once by whoever first sees the recovery released (see the module
 * comment): one conditional UPDATE claims it, then it is audited and told to the holder.
 */
export async function noteRelease(deps: Deps, approval: Approval, account: Account, context: RequestContext | null): Promise<void> {
  if (approval.kind !== 'recovery' || approval.releaseNoticedAt !== null) return;
  const at = deps.clock();
  if (viewOf(approval, at) !== 'released' && approval.state !== 'linked') return;
  if (!(await deps.store.approvals.markReleaseNoticed(approval.id, at))) return;
  await deps.store.audit.append({
    type: approvalEvent('recovery', 'released'),
    outcome: 'success',
    reason: approval.reason,
    accountId: approval.accountId,
    context,
    at,
    details: { approval: approval.id, username: account.username, requestedBy: approval.requestedBy, approvedBy: approval.approvedBy, releaseAt: approval.releaseAt, reason: approval.reason },
  });
  await announceRecovery(deps, account, approval, 'released', context);
}

/**
 * Inside the transaction that consumes a recovery link (passkeys/registration.ts), before the new
 * passkey is stored: audits the redemption and, when the request said `revokeExisting`, ends every
 * session and grant and disables every passkey the account had, through the one cascade
 * (lifecycle.ts `revokeAccountAccess`). Done at redemption rather than at release, so a holder who
 * finds a passkey again during the wait keeps it, and the account is never left with no way in.
 */
export async function redeemRecoveryLink(deps: Deps, tx: Store, invitation: Invitation, context: RequestContext, at: number): Promise<void> {
  const approval = await tx.approvals.findByInvitation(invitation.id);
  const account = await tx.accounts.findById(invitation.accountId);
  if (!approval || !account) return;
  const revoked = approval.revokeExisting
    ? await revokeAccountAccess(deps, tx, account, { scope: 'passkeys', reason: 'assisted_recovery', by: approval.requestedBy, context, at })
    : null;
  await tx.audit.append({
    type: approvalEvent('recovery', 'redeemed'),
    outcome: 'success',
    reason: approval.reason,
    accountId: account.id,
    context,
    at,
    details: { approval: approval.id, username: account.username, invitation: invitation.id, requestedBy: approval.requestedBy, approvedBy: approval.approvedBy, reason: approval.reason, revokeExisting: approval.revokeExisting, ...(revoked ? { revoked } : {}) },
  });
}

/** Tells the holder their account was recovered through the link (after the enrolment committed). */
export async function announceRecoveryCompleted(deps: Deps, account: Account, invitation: Invitation, context: RequestContext): Promise<void> {
  const approval = await deps.store.approvals.findByInvitation(invitation.id);
  if (approval) await announceRecovery(deps, account, approval, 'completed', context);
}

/** The admin API's and the CLI's reads: at most RECOVERY_LIST_LIMIT, newest first; a released one's notice goes now if it had not. */
export async function listRecoveries(deps: Deps, input: { actor: Actor; state?: ApprovalView }): Promise<Result<DescribedApproval[]>> {
  const allowed = await authorize(deps, input.actor, { fresh: false });
  if (!allowed.ok) return allowed;
  const rows = await deps.store.approvals.list({ kind: 'recovery', ...(input.state ? { states: [storedState(input.state)] } : {}), limit: RECOVERY_LIST_LIMIT });
  const now = deps.clock();
  const out: DescribedApproval[] = [];
  for (const row of rows) {
    const holder = await deps.store.accounts.findById(row.accountId);
    if (holder) await noteRelease(deps, row, holder, null);
    if (input.state && viewOf(row, now) !== input.state) continue;
    out.push(describeApproval(row, holder, now));
  }
  return ok(out);
}

function storedState(view: ApprovalView): Approval['state'] {
  return view === 'waiting' || view === 'released' ? 'approved' : view;
}

export async function showRecovery(deps: Deps, input: { actor: Actor; id: string }): Promise<Result<DescribedApproval>> {
  const allowed = await authorize(deps, input.actor, { fresh: false });
  if (!allowed.ok) return allowed;
  const found = await findApproval(deps.store, input.id, 'recovery');
  if (!found.ok) return found;
  const holder = await deps.store.accounts.findById(found.value.accountId);
  if (holder) await noteRelease(deps, found.value, holder, null);
  return ok(describeApproval((await deps.store.approvals.find(input.id))!, holder, deps.clock()));
}

/** The holder's own pending recoveries, for /account (README "Recovery": the holder sees them and can cancel). */
export async function pendingRecoveriesOf(deps: Deps, account: Account): Promise<DescribedApproval[]> {
  const rows = await deps.store.approvals.list({ kind: 'recovery', accountId: account.id, states: ['awaiting_approval', 'approved', 'linked'], limit: 20 });
  const now = deps.clock();
  const out: DescribedApproval[] = [];
  for (const row of rows) {
    if (row.state === 'linked' && row.invitationId) {
      const invitation = await deps.store.invitations.find(row.invitationId);
      if (!invitation || invitation.usedAt !== null || invitation.expiresAt <= now) continue;
    }
    await noteRelease(deps, row, account, null);
    out.push(describeApproval(row, account, now));
  }
  return out;
}
