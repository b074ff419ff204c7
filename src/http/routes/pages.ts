import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../services/deps.ts';
import { listOwnApiKeys } from '../../services/nhi/ownApiKeys.ts';
import { checkEnrolmentToken } from '../../services/invitations.ts';
import { listPasskeys } from '../../services/passkeys/management.ts';
import { isFresh } from '../../services/freshness.ts';
import { listGrants } from '../../services/grants.ts';
import { listSessions } from '../../services/sessions.ts';
import { errorStatus } from '../../core/errors.ts';
import { REASON_WORDS } from '../../core/risk/reasons.ts';
import { bundleClientScript } from '../assets/bundle.ts';
import { authenticate } from '../auth.ts';
import { renderAccountPage } from '../pages/account.ts';
import { registerAdminPages } from './adminPages.ts';
import { listDelegations } from '../../services/nhi/delegations.ts';
import { analyseAccountPaths } from '../../services/paths/analyse.ts';
import { pendingRecoveriesOf } from '../../services/recovery/assisted.ts';
import { renderEnrolPage } from '../pages/enrol.ts';
import { renderErrorPage } from '../pages/error.ts';
import { renderLoginPage } from '../pages/login.ts';
import { renderRecoverPage, renderRecoveryAccountPage } from '../pages/recover.ts';
import { renderMigratePage } from '../pages/migrate.ts';
import { CODE_FACTORS } from '../../codes/factors.ts';
import { codeFactorAllowed, codeFactorBindable } from '../../core/policy.ts';
import { listFactors } from '../../services/codes/factors.ts';

/** A refusal that asks for a new passkey sign-in, as the `step_up` query of the sign-in page (reason codes only). */
function stepUpQuery(refused: { ok: false; code: string; risk?: { reasons: readonly string[] } }): string {
  if (refused.code !== 'step_up_required' && refused.code !== 'risk_denied') return '';
  return `&step_up=${encodeURIComponent((refused.risk?.reasons ?? []).join(' '))}`;
}

/** The reasons a `step_up` query names: known codes only, so the page never echoes arbitrary text. */
function stepUpReasons(value: unknown): string[] | null {
  if (typeof value !== 'string') return null;
  return value.split(' ').filter((code) => /^[a-z_]{1,40}$/.test(code) && code in REASON_WORDS);
}

/** Only local paths may follow a sign-in, so `next` cannot send anyone to another site. */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]{0,512}$/.test(value) ? value : '/account';
}

/** The hosted pages and their assets. */
export async function registerPageRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const script = await bundleClientScript();
  const css = await readFile(fileURLToPath(new URL('../assets/style.css', import.meta.url)), 'utf8');
  const page = (status: number, body: string) => ({ status, body });

  app.get('/assets/keybound.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(script));
  app.get('/assets/style.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(css));

  app.get('/', async (request, reply) => {
    const active = await authenticate(deps, request);
    if (active.ok) return reply.redirect('/account', 303);
    const stepUp = stepUpQuery(active);
    return reply.redirect(stepUp ? `/login?next=/account${stepUp}` : '/login', 303);
  });

  app.get<{ Querystring: { next?: string; step_up?: string } }>('/login', async (request, reply) => {
    const codeFactors = CODE_FACTORS.filter((f) => Object.values(deps.policies).some((policy) => codeFactorAllowed(policy, f) === null));
    return reply.type('text/html; charset=utf-8').send(renderLoginPage({ next: safeNext(request.query.next), codeFactors, stepUp: stepUpReasons(request.query.step_up) }));
  });

  app.get<{ Params: { token: string } }>('/enrol/:token', async (request, reply) => {
    const checked = await checkEnrolmentToken(deps, request.params.token);
    const result = checked.ok
      ? page(
          200,
          renderEnrolPage({
            token: request.params.token,
            account: checked.value.account,
            expiresAt: checked.value.invitation.expiresAt,
            deviceBoundOnly: !deps.policies[checked.value.account.role].allowSyncedPasskeys,
          }),
        )
      : page(errorStatus(checked.code), renderErrorPage({ code: checked.code, title: 'This enrolment link cannot be used' }));
    return reply.code(result.status).type('text/html; charset=utf-8').header('referrer-policy', 'no-referrer').send(result.body);
  });


  app.get('/migrate', async (_request, reply) => reply.type('text/html; charset=utf-8').send(renderMigratePage()));

  app.get('/recover', async (_request, reply) => {
    const proofs = [...new Set(Object.values(deps.policies).flatMap((policy) => (policy.recovery.enabled ? policy.recovery.proofs : [])))];
    return reply.type('text/html; charset=utf-8').send(renderRecoverPage({ proofs }));
  });

  registerAdminPages(app, deps);

  app.get('/account', async (request, reply) => {
    const active = await authenticate(deps, request);
    if (!active.ok) return reply.redirect(`/login?next=/account${stepUpQuery(active)}`, 303);
    const { account, session } = active.value;
    // A recovery session sees only what it may do (README "Recovery").
    if (session.purpose !== 'sign_in') {
      return reply.type('text/html; charset=utf-8').send(renderRecoveryAccountPage({ account, session, sessions: await listSessions(deps, active.value) }));
    }
    const [passkeys, sessions, factorList, fresh, grants, recovered, recoveries, paths, delegations, apiKeys, signIns] = await Promise.all([
      listPasskeys(deps, account.id),
      listSessions(deps, active.value),
      listFactors(deps, account),
      isFresh(deps, active.value),
      listGrants(deps, active.value),
      lastRecovery(deps, account.id),
      pendingRecoveriesOf(deps, account),
      analyseAccountPaths(deps, account),
      listDelegations(deps, active.value),
      listOwnApiKeys(deps, active.value),
      deps.store.audit.list({ accountId: account.id, type: 'sign_in', limit: 10 }),
    ]);
    const policy = deps.policies[account.role];
    const factors = { factors: factorList, allowed: CODE_FACTORS.filter((f) => codeFactorBindable(policy, f) === null), fresh, hasEmail: account.email !== null };
    return reply.type('text/html; charset=utf-8').send(
      renderAccountPage({ account, session, passkeys, sessions, grants, delegations, delegationMaxDays: Math.floor(deps.config.nhi.delegationMaxTtlMs / 86_400_000), fresh, allowSyncedPasskeys: policy.allowSyncedPasskeys, factors, changed: typeof (request.query as { changed?: unknown }).changed === 'string' ? ((request.query as { changed: string }).changed) : null, recovered, recoveries, paths, apiKeys: { keys: apiKeys, selfScopes: deps.config.nhi.apiKeySelfScopes }, signIns }),
    );
  });
}


/** The account's latest completed recovery (audit event `recovery.completed`): when and from where. */
async function lastRecovery(deps: Deps, accountId: string): Promise<{ at: number; ip: string | null } | null> {
  const events = await deps.store.audit.list({ accountId, type: 'recovery.completed', limit: 1 });
  const last = events[0];
  return last ? { at: last.at, ip: last.ip } : null;
}
