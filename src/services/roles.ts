import { fail, ok, type Result } from '../core/errors.ts';
import type { Account, RequestContext, Role } from '../core/model.ts';
import { actorAccountId, actorName, authorize, CLI_ACTOR, type Actor } from './adminAccess.ts';
import { notifyHolder } from './codes/notify.ts';
import type { Deps } from './deps.ts';
import { lockedAccount } from './lifecycle.ts';
import { guardPathChange } from './paths/guard.ts';

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
  // The policy guard (docs/paths.md), before the transaction (it reads through the store): the
  // account must meet the new role's effective level. Its factors cannot change meanwhile without
  // a fresh sign-in of the holder, and each such change passes the guard itself.
  const target = await deps.store.accounts.findByUsername(input.username);
  if (target && target.status !== 'offboarded' && target.role !== input.role) {
    const weakens = await guardPathChange(deps, target, { kind: 'role', role: input.role });
    if (weakens) return weakens;
  }
  const result = await deps.store.transaction(async (tx): Promise<Result<{ account: Account; from: Role }>> => {
    const found = await lockedAccount(tx, input.username);
    if (!found.ok) return found;
    const account = found.value;
    if (account.status === 'offboarded') return fail('account_status_conflict', { message: `Account ${account.username} is offboarded; its role cannot change.` });
    if (account.role === input.role) return ok({ account, from: account.role });
    if (actor.kind === 'admin' && input.role === 'admin') return fail('approval_required');
    if (account.id === actorAccountId(actor)) return fail('account_status_conflict', { message: 'An administrator cannot change their own role; ask another administrator.' });
    await tx.accounts.setRole(account.id, input.role, now);
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
