import { fail, type Failure } from '../../core/errors.ts';
import type { Account, Role } from '../../core/model.ts';
import { acrBelow, acrName, analyseAccount, weakeningPath, type AccountFacts } from '../../core/paths/index.ts';
import type { Deps } from '../deps.ts';
import { rolePathPolicy } from './policy.ts';

/** A change to an account that can open a new way in (docs/paths.md "Policy guard"). */
export type PathChange =
  | { readonly kind: 'bind_code_factor'; readonly factor: 'totp' | 'sms' | 'email' }
  | { readonly kind: 'recovery_codes' }
  | { readonly kind: 'role'; readonly role: Role };

function applyChange(facts: AccountFacts, change: PathChange): AccountFacts {
  switch (change.kind) {
    case 'bind_code_factor':
      return { ...facts, codeFactors: [...facts.codeFactors.filter((c) => c.factor !== change.factor), { factor: change.factor, destination: null }] };
    case 'recovery_codes':
      return { ...facts, recoveryCodes: Math.max(facts.recoveryCodes, 10) };
    case 'role':
      return { ...facts, role: change.role };
  }
}

/**
 * The policy guard: refuses a change that would take the account's effective level (its weakest
 * way in) below `KEYBOUND_<ROLE>_MIN_EFFECTIVE_ACR`, and lower than it is now, before anything
 * is written or shown (for TOTP, before the seed). The refusal names the path it would open.
 * Returns null when the change may go ahead. Reads the same configuration as `keybound analyse`.
 */
export async function guardPathChange(deps: Deps, account: Account, change: PathChange): Promise<Failure | null> {
  const [facts] = await deps.store.pathFacts.load([account], deps.clock());
  if (!facts) return null;
  const admins = await deps.store.pathFacts.countActiveAdmins();
  const before = analyseAccount(facts, rolePathPolicy(deps, account.role, admins));
  const changed = applyChange(facts, change);
  const after = analyseAccount(changed, rolePathPolicy(deps, changed.role, admins));
  const opened = weakeningPath(before, after);
  if (!opened) {
    // A role change also moves the bar: the account must meet the new role's level.
    if (change.kind !== 'role' || !acrBelow(after.effectiveAcr, after.requiredAcr)) return null;
    const weakest = after.paths.find((p) => p.grantsAcr === after.effectiveAcr);
    return fail('policy_would_weaken_account', {
      message: `As ${change.role}, this account would need ${acrName(after.requiredAcr)}, and its weakest way in (${weakest?.label.toLowerCase() ?? 'none'}) gives ${after.effectiveAcr === null ? 'nothing' : acrName(after.effectiveAcr)}. Remove that way in first.`,
    });
  }
  const opens = opened.capabilities.filter((s) => s.length === 1).map((s) => s[0]!.replace(/_/g, ' '));
  return fail('policy_would_weaken_account', {
    message: `This would open a way into the account weaker than its role allows: ${opened.label.toLowerCase()}, which gives ${acrName(opened.grantsAcr)} (the role requires ${acrName(after.requiredAcr)})${opens.length > 0 ? ` and which ${opens.join(' or ')} alone opens` : ''}. Keep to passkeys.`,
  });
}
