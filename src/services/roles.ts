import { fail, ok, type Result } from '../core/errors.ts';
import type { Account, Role } from '../core/model.ts';
import type { Deps } from './deps.ts';

/**
 * Changes an account's role: the one way to, audited (`account.role_changed`) and logged at warn,
 * since a role decides what an account may do and which sign-ins it needs.
 */
export async function changeRole(deps: Deps, input: { username: string; role: Role; by: string }): Promise<Result<{ account: Account; from: Role }>> {
  const username = input.username.trim().toLowerCase();
  const now = deps.clock();
  const result = await deps.store.transaction(async (tx): Promise<Result<{ account: Account; from: Role }>> => {
    const found = await tx.accounts.findByUsername(username);
    if (!found) return fail('account_not_found', { message: `No account ${username}.` });
    await tx.accounts.lock(found.id);
    const account = (await tx.accounts.findById(found.id)) ?? found;
    if (account.status === 'offboarded') return fail('account_not_active', { message: `Account ${username} is offboarded; its role cannot change.` });
    if (account.role === input.role) return ok({ account, from: account.role });
    await tx.accounts.setRole(account.id, input.role, now);
    await tx.audit.append({ type: 'account.role_changed', outcome: 'success', accountId: account.id, at: now, details: { from: account.role, to: input.role, by: input.by } });
    return ok({ account: { ...account, role: input.role }, from: account.role });
  });
  if (result.ok && result.value.from !== input.role) {
    deps.log.warn({ event: 'account.role_changed', account: result.value.account.id, username, from: result.value.from, to: input.role, by: input.by }, 'security event: an account\'s role changed');
  }
  return result;
}
