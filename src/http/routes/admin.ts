import { ROLES, type Role } from '../../core/model.ts';
import { listAccounts, showAccount, updateAccount, type AccountChanges } from '../../services/accountAdmin.ts';
import { MAX_DISPLAY_NAME, MAX_EMAIL } from '../../services/invitations.ts';
import { describeChange, MAX_REASON, offboardAccount, resumeAccount, revokeSessions, suspendAccount } from '../../services/lifecycle.ts';
import { changeRole } from '../../services/roles.ts';
import { analyseUsername } from '../../services/paths/analyse.ts';
import { reportJson } from '../../core/report/evaluate.ts';
import { postureFor, reportFor } from '../../services/report/access.ts';
import { DEFAULT_DAYS } from '../../services/report/posture.ts';
import { route, type ApiRoute, type SessionRouteInput } from '../declare.ts';
import { sendFailure } from '../reply.ts';
import { emptyBody } from '../schemas.ts';

/**
 * Account administration (README "Account lifecycle"; issue 12 and OWASP ASVS 5.0 7.4.5): the same
 * services as `keybound accounts ...` and `keybound sessions revoke`. Reads need an administrator's
 * session at the admin role's level; changes need it fresh. The services check both again.
 */

const usernameParams = {
  type: 'object',
  required: ['username'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._@-]+$' } },
} as const;

const reasonBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { type: 'string', maxLength: MAX_REASON } },
} as const;

const updateBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    email: { anyOf: [{ type: 'string', maxLength: MAX_EMAIL }, { type: 'null' }] },
    displayName: { type: 'string', minLength: 1, maxLength: MAX_DISPLAY_NAME },
  },
} as const;

const roleBody = {
  type: 'object',
  additionalProperties: false,
  required: ['role'],
  properties: { role: { type: 'string', enum: [...ROLES] } },
} as const;

const revokeBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, all: { const: true } },
} as const;

const searchQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { query: { type: 'string', maxLength: 128 } },
} as const;

/** `?days=` of the posture dashboard: a whole number of days from 1 to 365 (services/report/posture.ts). */
export const postureQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { days: { type: 'string', pattern: '^(?:[1-9]|[1-9][0-9]|[12][0-9][0-9]|3[0-5][0-9]|36[0-5])$' } },
} as const;

type Params = { username: string };
const actorOf = (input: SessionRouteInput<unknown, unknown>) => ({ kind: 'admin' as const, active: input.active });

/** suspend, resume and offboard: one shape. */
function lifecycleRoute(action: 'suspend' | 'resume' | 'offboard', summary: string, run: typeof suspendAccount): ApiRoute {
  return route<{ reason?: string }, Params>({
    method: 'POST',
    path: `/api/v1/admin/accounts/:username/${action}`,
    summary,
    access: { admin: true, fresh: true },
    params: usernameParams,
    body: { schema: action === 'resume' ? emptyBody : reasonBody },
    responses: { 200: '{"account", "from", "revoked": {counts}, "selfContainedTokens": {"accessTokensValidUntil", "idTokensValidUntil"}}' },
    errors: [409],
    handler: async (input) => {
      const result = await run(input.deps, { username: input.params.username, actor: actorOf(input), context: input.context, reason: input.body?.reason ?? null });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send(describeChange(result.value));
    },
  });
}

export const adminRoutes: readonly ApiRoute[] = [
  route<unknown, unknown>({
    method: 'GET',
    path: '/api/v1/admin/posture',
    summary: 'The posture dashboard\'s figures (docs/report.md): phishing-resistant sign-ins by day, factor mix and effective levels by role, code sign-ins by factor, passkey adoption, machine identities needing attention (?days=1..365, default 30)',
    access: { admin: true },
    query: postureQuery,
    responses: { 200: '{"generatedAt", "days", "since", "signIns", "factorMix", "levels", "codeSignIns", "passkeyAdoption", "nhi"}' },
    handler: async (input) => {
      const { days } = input.request.query as { days?: string };
      const result = await postureFor(input.deps, { actor: actorOf(input), days: days ? Number(days) : DEFAULT_DAYS });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send(result.value);
    },
  }),
  route<unknown, unknown>({
    method: 'GET',
    path: '/api/v1/admin/report',
    summary: 'The standards report (docs/report.md): NIST SP 800-63B-4, NIST CSF 2.0, NIST SP 800-207, OWASP NHI Top 10, each control\'s status computed now from configuration and data',
    access: { admin: true },
    responses: { 200: '{"generatedAt", "frameworks": [{"id", "title", "controls": [{"id", "title", "status", "evidence"}]}]}' },
    handler: async (input) => {
      const result = await reportFor(input.deps, { actor: actorOf(input) });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send(reportJson(result.value));
    },
  }),
  route<unknown, unknown>({
    method: 'GET',
    path: '/api/v1/admin/accounts',
    summary: 'Accounts with status, last sign-in and factors (?query= matches username, display name or email)',
    access: { admin: true },
    query: searchQuery,
    responses: { 200: '{"accounts": [...]}' },
    handler: async (input) => {
      const { query } = input.request.query as { query?: string };
      const result = await listAccounts(input.deps, { actor: actorOf(input), query, limit: 200 });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send({ accounts: result.value });
    },
  }),
  route<unknown, Params>({
    method: 'GET',
    path: '/api/v1/admin/accounts/:username',
    summary: 'One account: status, role, email, passkeys, code factors, sessions, grants, pending links, last sign-in',
    access: { admin: true },
    params: usernameParams,
    responses: { 200: 'The account' },
    handler: async (input) => {
      const result = await showAccount(input.deps, { actor: actorOf(input), username: input.params.username });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send(result.value);
    },
  }),
  route<unknown, Params>({
    method: 'GET',
    path: '/api/v1/admin/accounts/:username/paths',
    summary: 'Every way into one account, what opens each, its effective level and findings (docs/paths.md)',
    access: { admin: true },
    params: usernameParams,
    responses: { 200: '{"account", "role", "requiredAcr", "effectiveAcr", "paths", "governedPaths", "findings", "advice"}' },
    handler: async (input) => {
      const result = await analyseUsername(input.deps, { username: input.params.username, actor: actorOf(input) });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send(result.value);
    },
  }),
  route<AccountChanges, Params>({
    method: 'PATCH',
    path: '/api/v1/admin/accounts/:username',
    summary: "Change an account's email address (null removes it) or display name",
    access: { admin: true, fresh: true },
    params: usernameParams,
    body: { schema: updateBody },
    responses: { 200: '{"id", "username", "displayName", "email"}' },
    handler: async (input) => {
      const result = await updateAccount(input.deps, { actor: actorOf(input), username: input.params.username, changes: input.body, context: input.context });
      if (!result.ok) return sendFailure(input.reply, result);
      const a = result.value;
      return input.reply.send({ id: a.id, username: a.username, displayName: a.displayName, email: a.email });
    },
  }),
  route<{ role: Role }, Params>({
    method: 'POST',
    path: '/api/v1/admin/accounts/:username/role',
    summary: "Change an account's role; raising to admin answers 202 and waits for a second administrator's approval (POST /api/v1/admin/approvals/{id}/approve)",
    access: { admin: true, fresh: true },
    params: usernameParams,
    body: { schema: roleBody },
    responses: { 200: '{"username", "role", "from"}', 202: '{"approval": {"id", "state": "awaiting_approval"}}' },
    handler: async (input) => {
      const result = await changeRole(input.deps, { username: input.params.username, role: input.body.role, actor: actorOf(input), context: input.context });
      if (!result.ok) return sendFailure(input.reply, result);
      const change = result.value;
      if (change.kind === 'pending') return input.reply.code(202).send({ approval: { id: change.approval.id, state: 'awaiting_approval' } });
      return input.reply.send({ username: change.account.username, role: change.account.role, from: change.from });
    },
  }),
  lifecycleRoute('suspend', 'Suspend an account: its sessions and grants end at once; sign-in and recovery are refused until resumed', suspendAccount),
  lifecycleRoute('resume', 'Resume a suspended account', resumeAccount),
  lifecycleRoute('offboard', 'Offboard an account for good: sessions, grants, passkeys, code factors, links and pending code sign-ins, in one transaction', offboardAccount),
  route<{ username?: string; all?: true }>({
    method: 'POST',
    path: '/api/v1/admin/sessions/revoke',
    summary: 'End one account\'s sessions and grants ({"username"}) or everyone\'s ({"all": true}, the caller\'s own included)',
    access: { admin: true, fresh: true },
    body: { schema: revokeBody },
    responses: { 200: '{"accounts", "sessions", "grants"}' },
    handler: async (input) => {
      const target = input.body.all === true ? ({ all: true } as const) : { username: input.body.username! };
      const result = await revokeSessions(input.deps, { target, actor: actorOf(input), context: input.context });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send(result.value);
    },
  }),
];
