import type { Kysely, Selectable } from 'kysely';
import type { Approval, ApprovalKind, ApprovalState, Role } from '../../core/model.ts';
import type { ApprovalStore } from '../ports.ts';
import type { ApprovalsTable, Database } from '../schema.ts';

const num = (v: number | null) => (v === null ? null : Number(v));

function toApproval(r: Selectable<ApprovalsTable>): Approval {
  return {
    id: r.id,
    kind: r.kind as ApprovalKind,
    accountId: r.account_id,
    state: r.state as ApprovalState,
    requestedBy: r.requested_by,
    requesterId: r.requester_id,
    reason: r.reason,
    revokeExisting: Number(r.revoke_existing) === 1,
    roleFrom: r.role_from as Role | null,
    roleTo: r.role_to as Role | null,
    approvedBy: r.approved_by,
    approverId: r.approver_id,
    approvedAt: num(r.approved_at),
    releaseAt: num(r.release_at),
    releaseNoticedAt: num(r.release_noticed_at),
    invitationId: r.invitation_id,
    linkedAt: num(r.linked_at),
    cancelledBy: r.cancelled_by,
    cancelledAt: num(r.cancelled_at),
    createdAt: Number(r.created_at),
  };
}

/** Every change of state is one conditional UPDATE: under any concurrency exactly one succeeds. */
export class SqlApprovalStore implements ApprovalStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(a: Approval): Promise<void> {
    await this.db
      .insertInto('approvals')
      .values({
        id: a.id,
        kind: a.kind,
        account_id: a.accountId,
        state: a.state,
        requested_by: a.requestedBy,
        requester_id: a.requesterId,
        reason: a.reason,
        revoke_existing: a.revokeExisting ? 1 : 0,
        role_from: a.roleFrom,
        role_to: a.roleTo,
        approved_by: a.approvedBy,
        approver_id: a.approverId,
        approved_at: a.approvedAt,
        release_at: a.releaseAt,
        release_noticed_at: a.releaseNoticedAt,
        invitation_id: a.invitationId,
        linked_at: a.linkedAt,
        cancelled_by: a.cancelledBy,
        cancelled_at: a.cancelledAt,
        created_at: a.createdAt,
      })
      .execute();
  }

  async find(id: string): Promise<Approval | undefined> {
    const row = await this.db.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toApproval(row);
  }

  async findByInvitation(invitationId: string): Promise<Approval | undefined> {
    const row = await this.db.selectFrom('approvals').selectAll().where('invitation_id', '=', invitationId).executeTakeFirst();
    return row && toApproval(row);
  }

  async list(filter: { kind?: ApprovalKind; states?: readonly ApprovalState[]; accountId?: string; limit: number }): Promise<Approval[]> {
    let query = this.db.selectFrom('approvals').selectAll();
    if (filter.kind) query = query.where('kind', '=', filter.kind);
    if (filter.accountId) query = query.where('account_id', '=', filter.accountId);
    if (filter.states) query = query.where('state', 'in', filter.states.length ? [...filter.states] : ['']);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').limit(filter.limit).execute();
    return rows.map(toApproval);
  }

  async approve(id: string, input: { approvedBy: string; approverId: string | null; at: number; releaseAt: number | null }): Promise<boolean> {
    const result = await this.db
      .updateTable('approvals')
      .set({ state: 'approved', approved_by: input.approvedBy, approver_id: input.approverId, approved_at: input.at, release_at: input.releaseAt })
      .where('id', '=', id)
      .where('state', '=', 'awaiting_approval')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async markApplied(id: string, at: number): Promise<boolean> {
    const result = await this.db.updateTable('approvals').set({ state: 'applied', linked_at: at }).where('id', '=', id).where('state', '=', 'approved').executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async markLinked(id: string, input: { invitationId: string; at: number }): Promise<boolean> {
    const result = await this.db
      .updateTable('approvals')
      .set({ state: 'linked', invitation_id: input.invitationId, linked_at: input.at })
      .where('id', '=', id)
      .where('state', '=', 'approved')
      .where('release_at', '<=', input.at)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async markReleaseNoticed(id: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('approvals')
      .set({ release_noticed_at: at })
      .where('id', '=', id)
      .where('release_noticed_at', 'is', null)
      .where('release_at', '<=', at)
      .where('state', 'in', ['approved', 'linked'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async cancel(id: string, input: { by: string; at: number; from: readonly ApprovalState[] }): Promise<boolean> {
    const result = await this.db
      .updateTable('approvals')
      .set({ state: 'cancelled', cancelled_by: input.by, cancelled_at: input.at })
      .where('id', '=', id)
      .where('state', 'in', [...input.from])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async cancelForAccount(accountId: string, input: { by: string; at: number }): Promise<number> {
    const result = await this.db
      .updateTable('approvals')
      .set({ state: 'cancelled', cancelled_by: input.by, cancelled_at: input.at })
      .where('account_id', '=', accountId)
      .where('state', 'in', ['awaiting_approval', 'approved'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
