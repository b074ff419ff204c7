import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Acr } from '../../core/assurance/level.ts';
import { errorStatus, fail, type Result } from '../../core/errors.ts';
import { ROLES } from '../../core/model.ts';
import { acrBelow } from '../../core/paths/levels.ts';
import { listAccounts, showAccount } from '../../services/accountAdmin.ts';
import type { Actor } from '../../services/adminAccess.ts';
import { listAudit, parseSinceValue } from '../../services/auditExport.ts';
import type { Deps } from '../../services/deps.ts';
import { adminListMachines } from '../../services/nhi/adminActions.ts';
import { adminListDelegations } from '../../services/nhi/delegations.ts';
import { analyseUsername } from '../../services/paths/analyse.ts';
import { listRecoveries } from '../../services/recovery/assisted.ts';
import { listRoleChanges } from '../../services/roles.ts';
import type { ActiveSession } from '../../services/sessions.ts';
import { listStreamsForAdmin } from '../../ssf/adminView.ts';
import type { AdminAccess } from '../declare.ts';
import { admit } from '../gates.ts';
import { renderAdminAccountPage } from '../pages/admin/account.ts';
import { ACCOUNTS_PER_PAGE, renderAccountsPage, type AccountFilters, type AccountRow } from '../pages/admin/accounts.ts';
import { renderApprovalsPage } from '../pages/admin/approvals.ts';
import { renderAuditPage } from '../pages/admin/audit.ts';
import { renderPolicyPage } from '../pages/admin/policy.ts';
import { renderStreamsPage } from '../pages/admin/streams.ts';
import { renderWorkloadsPage } from '../pages/admin/workloads.ts';
import { renderErrorPage } from '../pages/error.ts';
import { renderPosturePage } from '../pages/admin/posture.ts';
import { renderReportPage } from '../pages/admin/report.ts';
import { postureFor, reportFor } from '../../services/report/access.ts';
import { DEFAULT_DAYS } from '../../services/report/posture.ts';
import { postureQuery } from './admin.ts';

/**
 * The admin console's pages (README "Admin console"), declared with their gate like the API's
 * routes: each is an administrator's session at the admin role's level (gates.ts `admit`, the same
 * `requireAdmin` as the admin API). Pages only read; every change is the page script calling the
 * admin JSON API, whose routes are `fresh`. The services each page calls check the session again.
 */

interface PageInput {
  readonly deps: Deps;
  readonly request: FastifyRequest;
  readonly active: ActiveSession;
  readonly actor: Actor;
  readonly admin: string;
}

export interface AdminPage {
  readonly path: string;
  readonly access: AdminAccess;
  /** The page's HTML, or why it cannot be shown. */
  readonly render: (input: PageInput) => Promise<Result<string>>;
}

const ok = (body: string): Result<string> => ({ ok: true, value: body });
const str = (v: unknown) => (typeof v === 'string' ? v : '');

async function accountsPage({ deps, request, actor, admin }: PageInput): Promise<Result<string>> {
  const q = request.query as Record<string, unknown>;
  const page = Math.max(1, Math.min(10_000, Number.parseInt(str(q.page), 10) || 1));
  const filters: AccountFilters = {
    query: str(q.query).slice(0, 128),
    role: (ROLES as readonly string[]).includes(str(q.role)) ? str(q.role) : '',
    status: str(q.status).slice(0, 16),
    level: str(q.level).slice(0, 40),
    below: str(q.below) === 'yes',
    page,
  };
  const listed = await listAccounts(deps, { actor, query: filters.query || undefined, limit: 1000 });
  if (!listed.ok) return listed;
  const matching = listed.value.filter((a) => (!filters.role || a.role === filters.role) && (!filters.status || a.status === filters.status));
  // The level filters need every candidate's analysis; without them, only the page's rows are analysed.
  const byLevel = filters.level !== '' || filters.below;
  const analyse = async (rows: typeof matching): Promise<AccountRow[]> => {
    const out: AccountRow[] = [];
    for (const a of rows) {
      const analysis = await analyseUsername(deps, { username: a.username, actor });
      if (!analysis.ok) return [];
      const effectiveAcr = analysis.value.effectiveAcr as Acr | null;
      const requiredAcr = analysis.value.requiredAcr as Acr;
      out.push({ ...a, effectiveAcr, requiredAcr, belowRequired: acrBelow(effectiveAcr, requiredAcr) });
    }
    return out;
  };
  const start = (page - 1) * ACCOUNTS_PER_PAGE;
  if (byLevel) {
    const all = (await analyse(matching)).filter((r) => (!filters.below || r.belowRequired) && (!filters.level || (filters.level === 'none' ? r.effectiveAcr === null : r.effectiveAcr === filters.level)));
    return ok(renderAccountsPage({ admin, filters, rows: all.slice(start, start + ACCOUNTS_PER_PAGE), total: all.length }));
  }
  return ok(renderAccountsPage({ admin, filters, rows: await analyse(matching.slice(start, start + ACCOUNTS_PER_PAGE)), total: matching.length }));
}

async function accountPage({ deps, request, actor, admin }: PageInput): Promise<Result<string>> {
  const wanted = (request.params as { username: string }).username.slice(0, 64);
  // By username, as the admin API; an account id (as the audit trail names accounts) works too.
  const byId = await deps.store.accounts.findById(wanted);
  const username = byId?.username ?? wanted;
  const details = await showAccount(deps, { actor, username });
  if (!details.ok) return details;
  const analysis = await analyseUsername(deps, { username, actor });
  if (!analysis.ok) return analysis;
  const machines = await adminListMachines(deps, { actor, owner: details.value.username });
  if (!machines.ok) return machines;
  const delegations = await adminListDelegations(deps, { actor, accountId: details.value.id });
  if (!delegations.ok) return delegations;
  const signIns = await deps.store.audit.list({ accountId: details.value.id, type: 'sign_in', limit: 20 });
  const offboard = deps.config.nhi.onOwnerOffboard;
  return ok(renderAdminAccountPage({ admin, details: details.value, analysis: analysis.value, ...machines.value, delegations: delegations.value, signIns, machinesTo: offboard.action === 'transfer' ? offboard.username : null }));
}

async function approvalsPage({ deps, actor, admin }: PageInput): Promise<Result<string>> {
  const recoveries = await listRecoveries(deps, { actor });
  if (!recoveries.ok) return recoveries;
  const roleChanges = await listRoleChanges(deps, { actor });
  if (!roleChanges.ok) return roleChanges;
  return ok(renderApprovalsPage({ admin, recoveries: recoveries.value, roleChanges: roleChanges.value }));
}

async function workloadsPage({ deps, actor, admin }: PageInput): Promise<Result<string>> {
  const machines = await adminListMachines(deps, { actor });
  return machines.ok ? ok(renderWorkloadsPage({ admin, ...machines.value })) : machines;
}

async function streamsPage({ deps, actor, admin }: PageInput): Promise<Result<string>> {
  const streams = await listStreamsForAdmin(deps, { actor });
  return streams.ok ? ok(renderStreamsPage({ admin, streams: streams.value })) : streams;
}

const AUDIT_PAGE_LIMIT = 100;

async function auditPage({ deps, request, actor, admin }: PageInput): Promise<Result<string>> {
  const q = request.query as Record<string, unknown>;
  const filters = { type: str(q.type).slice(0, 64), account: str(q.account).slice(0, 64), since: str(q.since).slice(0, 40) };
  const since = filters.since ? parseSinceValue(filters.since, deps.clock()) : undefined;
  if (since === null) return ok(renderAuditPage({ admin, filters, lines: [], limit: AUDIT_PAGE_LIMIT, error: 'Since is an age (24h, 7d) or an ISO 8601 date or time (2026-12-01).' }));
  const lines = await listAudit(deps, { actor, query: { type: filters.type, account: filters.account, since, limit: AUDIT_PAGE_LIMIT } });
  if (!lines.ok && lines.code === 'account_not_found') return ok(renderAuditPage({ admin, filters, lines: [], limit: AUDIT_PAGE_LIMIT, error: lines.message ?? 'No such account.' }));
  return lines.ok ? ok(renderAuditPage({ admin, filters, lines: lines.value, limit: AUDIT_PAGE_LIMIT, error: null })) : lines;
}

async function policyPage({ deps, admin }: PageInput): Promise<Result<string>> {
  const roles = Object.fromEntries(ROLES.map((role) => [role, { policy: deps.policies[role], requiredAcr: deps.config.roles[role].minEffectiveAcr, recoveryDelayMs: deps.config.roles[role].recoveryDelayMs }])) as Parameters<typeof renderPolicyPage>[0]['roles'];
  return ok(renderPolicyPage({ admin, roles, freshMaxAgeMs: deps.config.freshAuthMaxAgeMs, sessionLimits: deps.config.sessionLimits }));
}

const DAYS = new RegExp(postureQuery.properties.days.pattern);

async function posturePage({ deps, request, actor, admin }: PageInput): Promise<Result<string>> {
  const { days } = request.query as { days?: unknown };
  if (days !== undefined && (typeof days !== 'string' || !DAYS.test(days))) return fail('invalid_request', { message: 'Days must be a whole number from 1 to 365.' });
  const posture = await postureFor(deps, { actor, days: days ? Number(days) : DEFAULT_DAYS });
  return posture.ok ? ok(renderPosturePage(posture.value, admin)) : posture;
}

async function reportPage({ deps, actor, admin }: PageInput): Promise<Result<string>> {
  const report = await reportFor(deps, { actor });
  return report.ok ? ok(renderReportPage(report.value, admin)) : report;
}

const ADMIN: AdminAccess = { admin: true };

/** The console's pages, the posture dashboard and the standards report among them. */
export const ADMIN_PAGES: readonly AdminPage[] = [
  { path: '/admin/accounts', access: ADMIN, render: accountsPage },
  { path: '/admin/accounts/:username', access: ADMIN, render: accountPage }, // a username or an account id
  { path: '/admin/approvals', access: ADMIN, render: approvalsPage },
  { path: '/admin/workloads', access: ADMIN, render: workloadsPage },
  { path: '/admin/streams', access: ADMIN, render: streamsPage },
  { path: '/admin/audit', access: ADMIN, render: auditPage },
  { path: '/admin/policy', access: ADMIN, render: policyPage },
  { path: '/admin/posture', access: ADMIN, render: posturePage },
  { path: '/admin/report', access: ADMIN, render: reportPage },
];

const SIGN_IN_AGAIN = new Set(['session_required', 'session_expired']);

function html(reply: FastifyReply, status: number, body: string) {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
}

/** Registers the console: `/admin` opens the accounts list; without a session, sign-in comes first. */
export function registerAdminPages(app: FastifyInstance, deps: Deps, pages: readonly AdminPage[] = ADMIN_PAGES): void {
  app.get('/admin', async (_request, reply) => reply.redirect('/admin/accounts', 303));
  for (const page of pages) {
    app.get(page.path, async (request, reply) => {
      const active = await admit(deps, request, page.access);
      if (!active.ok) {
        if (SIGN_IN_AGAIN.has(active.code)) return reply.redirect(`/login?next=${encodeURIComponent(request.url.slice(0, 500))}`, 303);
        return html(reply, errorStatus(active.code), renderErrorPage({ code: active.code, title: 'This page is for administrators', ...(active.message ? { message: active.message } : {}) }));
      }
      const actor: Actor = { kind: 'admin', active: active.value };
      const result = await page.render({ deps, request, active: active.value, actor, admin: active.value.account.username });
      if (!result.ok) return html(reply, errorStatus(result.code), renderErrorPage({ code: result.code, ...(result.message ? { message: result.message } : {}) }));
      return html(reply, 200, result.value);
    });
  }
}
