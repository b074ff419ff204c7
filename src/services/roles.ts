import { fail, ok, type Result } from '../core/errors.ts';
import type { Account, RequestContext, Role } from '../core/model.ts';
import { actorAccountId, actorName, authorize, CLI_ACTOR, type Actor } from './adminAccess.ts';
import { notifyHolder } from './codes/notify.ts';
import type { Deps } from './deps.ts';
import { lockedAccount } from './lifecycle.ts';
import { queueSecurityEvent, SSF_EVENTS } from '../ssf/events.ts';

/**
 * CAEP 1.0 §3.4 namespace (a custom one, as §3.4.1 allows) of the level a role requires: the lowest
 * NIST SP 800-63B-4 AAL its sign-ins must reach (`KEYBOUND_<ROLE>_MIN_AAL`), as `nist-aal1|2`.
 * Not a level anyone reached: what the account must reach from now on (docs/shared-signals.md).
 */
export const ROLE_LEVEL_NAMESPACE = 'keybound-role-min-aal';

/**
 * Changes an account's role: the one way to, audited (`account.role_changed` with the old and new
 * role and who changed it), logged at warn and told to the holder, since a role decides what an
 * account may do and which sign-ins it needs.
 *
 * Raising an account to `admin` through the API will need a second administrator's approval
 * (issue 12); until that exists it is refused there (`approval_required`). The operator's CLI,
 * which runs with the server's configuration and database, may do it.
 */
export async function changeRole(
  deps: Deps,
  input: { username: string; role: Role; actor?: Actor; context?: RequestContext | null },
): Promise<Result<{ account: Account; from: Role }>> {
  const actor = input.actor ?? CLI_ACTOR;
  const allowed = await authorize(deps, actor, { fresh: true });
  if (!allowed.ok) return allowed;
  const by = actorName(actor);
  const context = input.context ?? null;
  const now = deps.clock();
  const result = await deps.store.transaction(async (tx): Promise<Result<{ account: Account; from: Role }>> => {
    const found = await lockedAccount(tx, input.username);
    if (!found.ok) return found;
    const account = found.value;
    if (account.status === 'offboarded') return fail('account_status_conflict', { message: `Account ${account.username} is offboarded; its role cannot change.` });
    if (account.role === input.role) return ok({ account, from: account.role });
    if (actor.kind === 'admin' && input.role === 'admin') return fail('approval_required');
    if (account.id === actorAccountId(actor)) return fail('account_status_conflict', { message: 'An administrator cannot change their own role; ask another administrator.' });
    await tx.accounts.setRole(account.id, input.role, now);
    // Keybound's tokens carry no role claim, so a role change is no token-claims-change; what
    // applications can act on is the level the account's sign-ins must now reach, when it moves.
    const [before, after] = [deps.policies[account.role].minAal, deps.policies[input.role].minAal];
    if (before !== after) {
      await queueSecurityEvent(deps, tx, {
        accountId: account.id,
        type: SSF_EVENTS.assuranceLevelChange,
        event: { namespace: ROLE_LEVEL_NAMESPACE, current_level: `nist-aal${after}`, previous_level: `nist-aal${before}`, change_direction: after > before ? 'increase' : 'decrease', initiating_entity: 'admin' },
        at: now,
      });
    }
    await tx.audit.append({ type: 'account.role_changed', outcome: 'success', accountId: account.id, context, at: now, details: { username: account.username, from: account.role, to: input.role, by } });
    return ok({ account: { ...account, role: input.role }, from: account.role });
  });
  if (result.ok && result.value.from !== input.role) {
    const { account, from } = result.value;
    deps.log.warn({ event: 'account.role_changed', account: account.id, username: account.username, from, to: input.role, by }, 'security event: an account\'s role changed');
    await notifyHolder(deps, account, { kind: 'role_changed', from, to: input.role }, context);
  }
  return result;
}
