import { fail, ok, type Result } from '../core/errors.ts';
import type { Deps } from './deps.ts';
import { requireFresh } from './freshness.ts';
import { assessAction, riskFailure } from './risk/evaluate.ts';
import type { ActiveSession } from './sessions.ts';

/**
 * Who asks for an administrative change: the operator at the server (`keybound accounts ...`, who
 * holds the database and the configuration already), or an administrator through the JSON API.
 */
export type Actor = { readonly kind: 'cli' } | { readonly kind: 'admin'; readonly active: ActiveSession } | ScimActor;

/**
 * A SCIM provisioning client (src/scim/auth.ts), admitted by its credential (an API key or a
 * client-credentials token with scope `scim`): `key:<api key id>` or `client:<client id>`. Only the
 * SCIM gate makes one.
 */
export interface ScimActor {
  readonly kind: 'scim';
  readonly credential: string;
}

export const CLI_ACTOR: Actor = { kind: 'cli' };

/** How the audit trail names the actor: `cli`, or `admin:<username>`. */
export function actorName(actor: Actor): string {
  if (actor.kind === 'scim') return `scim:${actor.credential}`;
  return actor.kind === 'cli' ? 'cli' : `admin:${actor.active.account.username}`;
}

/** The actor's account id, when the actor is an administrator (to refuse changes to oneself). */
export function actorAccountId(actor: Actor): string | null {
  return actor.kind === 'admin' ? actor.active.account.id : null;
}

const TOO_LOW = (aal: number) => `This needs an administrator's session at AAL${aal} or above (the admin role's required level). Sign in again with a passkey that reaches it.`;

/**
 * The one definition of an administrator's session, which the admin routes' gate and every
 * administrative service call (so a new route cannot skip it): an `admin` account, signed in at
 * the admin role's required level (KEYBOUND_ADMIN_MIN_AAL); for changes, also fresh
 * (services/freshness.ts, at that level).
 */
export async function requireAdmin(deps: Deps, active: ActiveSession, rule: { fresh: boolean }): Promise<Result<null>> {
  if (active.account.role !== 'admin' || active.account.status !== 'active') return fail('admin_required');
  const minAal = deps.policies.admin.minAal;
  if (active.session.aal < minAal) return fail('admin_required', { message: TOO_LOW(minAal) });
  if (rule.fresh) {
    const fresh = await requireFresh(deps, active, minAal >= 2 ? { minAal: minAal as 2 } : {});
    if (!fresh.ok) return fresh;
  }
  // Every administrative action is `privileged_action` to the risk policy (by default: a passkey
  // sign-in no older than 10 minutes; docs/risk.md).
  const refused = riskFailure(assessAction(deps, active.session, active.account.role));
  if (refused) {
    await deps.store.audit.append({ type: 'risk.action', outcome: 'failure', reason: refused.code, accountId: active.account.id, context: { ip: active.session.ip, userAgent: active.session.userAgent }, at: deps.clock(), details: { session: active.session.id, reasons: refused.risk?.reasons ?? [] } });
    return refused;
  }
  return ok(null);
}

/**
 * Admits the actor: the CLI always (it runs with the server's own configuration), a SCIM client
 * (its credential and scope were checked by the SCIM gate, the only place one is made), an
 * administrator per `requireAdmin`.
 */
export function authorize(deps: Deps, actor: Actor, rule: { fresh: boolean }): Promise<Result<null>> {
  return actor.kind === 'admin' ? requireAdmin(deps, actor.active, rule) : Promise.resolve(ok(null));
}
