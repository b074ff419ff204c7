import { APPROVAL_VIEWS, describeApproval, type ApprovalView } from '../../services/approvals.ts';
import { MAX_REASON } from '../../services/lifecycle.ts';
import { approveRecovery, cancelRecovery, issueRecoveryLink, listRecoveries, pendingRecoveriesOf, requestRecovery, showRecovery } from '../../services/recovery/assisted.ts';
import { approveRoleChange, cancelRoleChange } from '../../services/roles.ts';
import { route, type ApiRoute, type SessionRouteInput } from '../declare.ts';
import { sendFailure } from '../reply.ts';
import { emptyBody, idParams } from '../schemas.ts';
import { isoTime, isoTimeOrNull } from '../../core/time.ts';

/**
 * Two-person approvals (README "Recovery", "Account lifecycle"; issue 12): assisted recovery, and
 * approving a raise to admin. The services check the administrator's session (level, freshness,
 * passkey) and who may approve again themselves (services/approvals.ts).
 */

const requestBody = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'reason'],
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._@-]+$' },
    reason: { type: 'string', minLength: 1, maxLength: MAX_REASON },
    revokeExisting: { type: 'boolean' },
  },
} as const;

const stateQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { state: { type: 'string', enum: [...APPROVAL_VIEWS] } },
} as const;

type Id = { id: string };
const actorOf = (input: SessionRouteInput<unknown, unknown>) => ({ kind: 'admin' as const, active: input.active });

export const recoveryAdminRoutes: readonly ApiRoute[] = [
  route<{ username: string; reason: string; revokeExisting?: boolean }>({
    method: 'POST',
    path: '/api/v1/admin/recoveries',
    summary: 'Request an assisted recovery for a holder who lost every authenticator; a second administrator approves it, then it waits KEYBOUND_<ROLE>_RECOVERY_DELAY',
    access: { admin: true, fresh: true },
    body: { schema: requestBody },
    responses: { 201: '{"id", "state": "awaiting_approval"}' },
    errors: [409],
    handler: async (input) => {
      const { username, reason, revokeExisting } = input.body;
      const result = await requestRecovery(input.deps, { username, reason, revokeExisting: revokeExisting ?? false, actor: actorOf(input), context: input.context });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.code(201).send({ id: result.value.approval.id, state: 'awaiting_approval' });
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/recoveries',
    summary: 'Assisted recoveries, newest first (?state=awaiting_approval|waiting|released|linked|cancelled)',
    access: { admin: true },
    query: stateQuery,
    responses: { 200: '{"recoveries": [...]}' },
    handler: async (input) => {
      const { state } = input.request.query as { state?: ApprovalView };
      const result = await listRecoveries(input.deps, { actor: actorOf(input), ...(state ? { state } : {}) });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send({ recoveries: result.value });
    },
  }),
  route<unknown, Id>({
    method: 'GET',
    path: '/api/v1/admin/recoveries/:id',
    summary: 'One assisted recovery: holder, state, requester, approver, reason, release time',
    access: { admin: true },
    params: idParams,
    responses: { 200: 'The recovery' },
    handler: async (input) => {
      const result = await showRecovery(input.deps, { actor: actorOf(input), id: input.params.id });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send(result.value);
    },
  }),
  route<unknown, Id>({
    method: 'POST',
    path: '/api/v1/admin/recoveries/:id/approve',
    summary: 'Approve an assisted recovery as the second administrator (not the requester, not the holder; fresh passkey session); racing approvals give exactly one',
    access: { admin: true, fresh: true },
    params: idParams,
    body: { schema: emptyBody },
    responses: { 200: '{"state": "waiting", "releaseAt"}' },
    errors: [409],
    handler: async (input) => {
      const result = await approveRecovery(input.deps, { id: input.params.id, actor: actorOf(input), context: input.context });
      if (!result.ok) return sendFailure(input.reply, result);
      const view = describeApproval(result.value, undefined, input.deps.clock());
      return input.reply.send({ state: view.state, releaseAt: view.releaseAt });
    },
  }),
  route<unknown, Id>({
    method: 'POST',
    path: '/api/v1/admin/recoveries/:id/cancel',
    summary: 'Cancel an assisted recovery (any administrator); a link already issued and unused stops working',
    access: { admin: true },
    params: idParams,
    body: { schema: emptyBody },
    responses: { 200: '{"id", "state": "cancelled"}' },
    errors: [409],
    handler: async (input) => {
      const result = await cancelRecovery(input.deps, { id: input.params.id, by: { actor: actorOf(input) }, context: input.context });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send({ id: result.value.id, state: 'cancelled' });
    },
  }),
  route<unknown, Id>({
    method: 'POST',
    path: '/api/v1/admin/recoveries/:id/link',
    summary: "After releaseAt, the requester's single-use enrolment link for the holder (15 minutes), given once; before: 409 recovery_not_released with retry_after",
    access: { admin: true, fresh: true },
    params: idParams,
    body: { schema: emptyBody },
    responses: { 201: '{"url", "expiresAt"}' },
    errors: [409],
    handler: async (input) => {
      const result = await issueRecoveryLink(input.deps, { id: input.params.id, actor: actorOf(input), context: input.context });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.code(201).header('cache-control', 'no-store').send({ url: result.value.url, expiresAt: isoTime(result.value.expiresAt) });
    },
  }),
  route<unknown, Id>({
    method: 'POST',
    path: '/api/v1/admin/approvals/:id/approve',
    summary: 'Approve raising an account to admin (the id from POST /api/v1/admin/accounts/{username}/role) as a second administrator: not the requester, not the holder; fresh passkey session',
    access: { admin: true, fresh: true },
    params: idParams,
    body: { schema: emptyBody },
    responses: { 200: '{"username", "role", "from", "approval": {"id", "state": "applied", "requestedBy", "approvedBy"}}' },
    errors: [409],
    handler: async (input) => {
      const result = await approveRoleChange(input.deps, { id: input.params.id, actor: actorOf(input), context: input.context });
      if (!result.ok) return sendFailure(input.reply, result);
      const { account, from, approval } = result.value;
      return input.reply.send({ username: account.username, role: account.role, from, approval: { id: approval.id, state: 'applied', requestedBy: approval.requestedBy, approvedBy: approval.approvedBy } });
    },
  }),
  route<unknown, Id>({
    method: 'POST',
    path: '/api/v1/admin/approvals/:id/cancel',
    summary: 'Withdraw a request to raise an account to admin (any administrator)',
    access: { admin: true },
    params: idParams,
    body: { schema: emptyBody },
    responses: { 200: '{"id", "state": "cancelled"}' },
    errors: [409],
    handler: async (input) => {
      const result = await cancelRoleChange(input.deps, { id: input.params.id, actor: actorOf(input), context: input.context });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send({ id: result.value.id, state: 'cancelled' });
    },
  }),
];

/** The holder's side: see pending recoveries of one's own account, and cancel them from a passkey session. */
export const recoveryHolderRoutes: readonly ApiRoute[] = [
  route({
    method: 'GET',
    path: '/api/v1/account/recoveries',
    summary: 'Assisted recoveries of your account that are pending (awaiting approval, waiting, released, or with an unused link)',
    access: 'session',
    responses: { 200: '{"recoveries": [...]}' },
    handler: async ({ deps, reply, active }) => reply.send({ recoveries: await pendingRecoveriesOf(deps, active.account) }),
  }),
  route<unknown, Id>({
    method: 'POST',
    path: '/api/v1/account/recoveries/:id/cancel',
    summary: 'Cancel an assisted recovery of your own account (a session signed in with a passkey)',
    access: 'session',
    params: idParams,
    body: { schema: emptyBody },
    responses: { 200: '{"id", "state": "cancelled"}' },
    errors: [409],
    handler: async ({ deps, reply, params, context, active }) => {
      const result = await cancelRecovery(deps, { id: params.id, by: { holder: active }, context });
      if (!result.ok) return sendFailure(reply, result);
      return reply.send({ id: result.value.id, state: 'cancelled', cancelledAt: isoTimeOrNull(result.value.cancelledAt) });
    },
  }),
];
