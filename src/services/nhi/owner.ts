import { fail, ok, type Result } from '../../core/errors.ts';
import type { Account } from '../../core/model.ts';
import type { Store } from '../../store/index.ts';

/**
 * DESIGN.md "Machines have owners": a workload or API key gets an owner only if that account is
 * active now, and a change of owner takes the new owner's row for the rest of the transaction (as
 * lifecycle changes do), so a suspension racing it either came first and is seen, or comes after
 * and finds the workload to cascade to.
 */
export async function activeOwner(tx: Store, username: string): Promise<Result<Account>> {
  const name = username.trim().toLowerCase();
  const found = await tx.accounts.findByUsername(name);
  if (!found) return fail('account_not_found', { message: `No account ${name}.` });
  const status = await tx.accounts.lock(found.id);
  if (status !== 'active') return fail('owner_not_active', { message: `Account ${name} is ${status ?? 'gone'}; a workload or API key needs an active owner.` });
  return ok(found);
}

/** Usernames of owners, for listings. */
export async function ownerNames(store: Store, ids: readonly string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const id of new Set(ids)) {
    const account = await store.accounts.findById(id);
    names.set(id, account?.username ?? `(deleted ${id})`);
  }
  return names;
}
