import { pendingAuthenticator } from '../../codes/factors.ts';
import { newRecoveryCodeSet, normaliseRecoveryCode, recoveryCodeHash } from '../../codes/recovery.ts';
import { fail, ok, type Result } from '../../core/errors.ts';
import type { RequestContext } from '../../core/model.ts';
import { codeFactorBindable } from '../../core/policy.ts';
import type { Deps } from '../deps.ts';
import { codeFactorChanged } from '../../ssf/events.ts';
import { requireFresh } from '../freshness.ts';
import type { ActiveSession } from '../sessions.ts';
import { newId } from './attempts.ts';
import { notifyHolder } from './notify.ts';
import { guardPathChange } from '../paths/guard.ts';

/**
 * Makes a new set of 10 recovery codes, replacing the whole previous set (used or not) and
 * re-enabling the factor if too many failures had disabled it. Only from a fresh passkey session.
 * The codes are returned this once; only their hashes are kept.
 */
export async function generateRecoveryCodes(deps: Deps, active: ActiveSession, context: RequestContext): Promise<Result<{ codes: string[] }>> {
  const { account } = active;
  const refused = codeFactorBindable(deps.policies[account.role], 'recovery');
  if (refused) return fail(refused);
  const fresh = await requireFresh(deps, active);
  if (!fresh.ok) return fresh;
  // The policy guard (docs/paths.md): a one-code recovery can take an AAL2 account to AAL1.
  const weakens = await guardPathChange(deps, account, { kind: 'recovery_codes' });
  if (weakens) return weakens;
  const now = deps.clock();
  const id = newId(deps);
  const codes = newRecoveryCodeSet(deps.random);
  await deps.store.transaction(async (tx) => {
    await tx.accounts.lock(account.id);
    await tx.authenticators.removePending(account.id, 'recovery_codes');
    await tx.authenticators.insert(pendingAuthenticator({ id, accountId: account.id, kind: 'recovery_codes', now }));
    await tx.recoveryCodes.insertSet(id, codes.map((code) => ({ id: newId(deps), codeHash: recoveryCodeHash(normaliseRecoveryCode(code)!) })));
    if (!(await tx.authenticators.bind(id, { now }))) throw new Error('a pending recovery-code set could not be bound in its own transaction');
    await codeFactorChanged(deps, tx, { accountId: account.id, kind: 'recovery_codes', change: 'create', by: 'user', at: now });
    await tx.audit.append({ type: 'recovery_codes.generated', outcome: 'success', accountId: account.id, context, at: now, details: { authenticator: id, count: codes.length } });
  });
  await notifyHolder(deps, account, { kind: 'factor_bound', factor: 'recovery' }, context);
  return ok({ codes });
}
