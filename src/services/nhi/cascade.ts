import type { Account } from '../../core/model.ts';
import type { Store } from '../../store/index.ts';
import type { Deps } from '../deps.ts';

/** What happened to the machines of an owner who left. */
export interface MachinesCascade {
  /** Workloads disabled, or moved to `transferredTo`. */
  readonly workloads: number;
  /** API keys revoked, or moved to `transferredTo`. */
  readonly apiKeys: number;
  /** Delegations the person gave agents, revoked (never transferred: they are the person's own word). */
  readonly delegations: number;
  /** The username they went to (KEYBOUND_NHI_ON_OWNER_OFFBOARD=transfer:<username>), or `null` when disabled. */
  readonly transferredTo: string | null;
}

/**
 * DESIGN.md "Machines have owners" and OWASP NHI1 (improper offboarding): when a person is
 * suspended or offboarded, the workloads and API keys they own stop working in the same transaction
 * (services/lifecycle.ts `revokeAccountAccess`), or, under KEYBOUND_NHI_ON_OWNER_OFFBOARD=
 * transfer:<username>, are moved to that account if it is active at that moment (else they are
 * disabled: a machine never keeps an owner who is not active). Audited as `nhi.owner_left`.
 * The delegations the person gave agents (nhi/delegations.ts) are revoked in any case: no agent
 * acts for someone who has left, whatever happens to the machines they owned.
 */
export async function cascadeToMachines(deps: Deps, tx: Store, account: Account, input: { reason: 'suspended' | 'offboarded'; by: string; at: number }): Promise<MachinesCascade> {
  const policy = deps.config.nhi.onOwnerOffboard;
  let heir: Account | null = null;
  let transferRefused: string | null = null;
  if (policy.action === 'transfer') {
    const found = await tx.accounts.findByUsername(policy.username);
    const status = found && found.id !== account.id ? await tx.accounts.lock(found.id) : undefined;
    if (found && status === 'active') heir = found;
    else transferRefused = !found ? `no account ${policy.username}` : found.id === account.id ? `${policy.username} is the account leaving` : `${policy.username} is ${status}`;
  }
  const delegations = await tx.delegations.revokeForAccount(account.id, `owner_${input.reason}`, input.at);
  let result: MachinesCascade & { clientIds: string[] };
  if (heir) {
    const clientIds = await tx.workloads.transferOwner(account.id, heir.id);
    result = { workloads: clientIds.length, apiKeys: await tx.apiKeys.transferOwner(account.id, heir.id), delegations, transferredTo: heir.username, clientIds };
  } else {
    const clientIds = await tx.workloads.disableForOwner(account.id, `owner_${input.reason}`);
    result = { workloads: clientIds.length, apiKeys: await tx.apiKeys.revokeForOwner(account.id, `owner_${input.reason}`, input.at), delegations, transferredTo: null, clientIds };
  }
  if (result.workloads > 0 || result.apiKeys > 0 || delegations > 0) {
    await tx.audit.append({
      type: 'nhi.owner_left',
      outcome: 'success',
      accountId: account.id,
      at: input.at,
      details: { by: input.by, reason: input.reason, action: heir ? 'transferred' : 'disabled', to: heir?.username ?? null, workloads: result.clientIds, apiKeys: result.apiKeys, delegations, ...(transferRefused ? { transferRefused } : {}) },
    });
    if (transferRefused) deps.log.warn({ event: 'nhi.transfer_refused', account: account.id, reason: transferRefused }, 'KEYBOUND_NHI_ON_OWNER_OFFBOARD names an account that cannot own machines; they were disabled instead');
  }
  const { clientIds: _ids, ...counts } = result;
  return counts;
}
