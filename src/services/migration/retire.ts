import { FACTOR_KIND, KIND_FACTOR, type CodeFactor } from '../../codes/factors.ts';
import type { Account, RequestContext } from '../../core/model.ts';
import type { Store } from '../../store/index.ts';
import type { Deps } from '../deps.ts';
import { announceToHolder, noticeTime } from '../devices/announce.ts';

/**
 * What binding a passkey closes behind it (README "Importing accounts", downgrade prevention): the
 * old password hash of an imported account, and the code factors listed in the role's
 * `KEYBOUND_<ROLE>_RETIRE_ON_PASSKEY`. Runs inside the passkey's own transaction, under the
 * account lock, on every path that binds one (enrolment, device link, added from a session,
 * recovery, migration), so no passkey exists beside a retired factor that is still live.
 */
export interface Retired {
  readonly factors: readonly CodeFactor[];
  readonly passwordRemoved: boolean;
}

export async function retireOnPasskey(deps: Deps, tx: Store, input: { account: Account; passkeyId: string; context: RequestContext; at: number }): Promise<Retired> {
  const { account, context, at } = input;
  const passwordRemoved = await tx.imports.removePassword(account.id, at);
  if (passwordRemoved) {
    await tx.audit.append({ type: 'migration.password_removed', outcome: 'success', accountId: account.id, context, at, details: { passkey: input.passkeyId } });
  }
  const kinds = deps.config.roles[account.role].migration.retireOnPasskey.map((f) => FACTOR_KIND[f]);
  const disabled = await tx.authenticators.disableKinds(account.id, kinds, 'retired_on_passkey');
  const factors = [...new Set(disabled.map((a) => KIND_FACTOR[a.kind]))];
  if (disabled.length > 0) {
    await tx.audit.append({
      type: 'factor.retired',
      outcome: 'success',
      reason: 'retired_on_passkey',
      accountId: account.id,
      context,
      at,
      details: { passkey: input.passkeyId, factors, authenticators: disabled.map((a) => a.id) },
    });
  }
  return { factors, passwordRemoved };
}

const FACTOR_WORDS: Record<CodeFactor, string> = { totp: 'authenticator app codes', sms: 'text-message codes', email: 'email codes', recovery: 'recovery codes' };

/** Tells the holder which weaker ways in were closed (after the commit; channels include the retired ones). */
export async function announceRetired(deps: Deps, account: Account, retired: Retired, context: RequestContext): Promise<void> {
  if (retired.factors.length === 0) return;
  const words = retired.factors.map((f) => FACTOR_WORDS[f]).join(', ');
  const when = noticeTime(deps.clock());
  await announceToHolder(
    deps,
    account,
    {
      kind: 'factors_retired',
      subject: 'Your passkey replaced your older sign-in methods',
      text:
        `A passkey was added to your account ${account.username} at ${when}, so ${words} no longer sign you in: they can be phished or intercepted, and your passkey cannot. ` +
        `Sign in with your passkey from now on. If you did not add a passkey, tell your administrator at once. See ${deps.config.publicUrl}/account.`,
      short: `A passkey was added at ${when}; ${words} no longer sign you in. If this was not you, tell your administrator.`,
    },
    context,
  );
}
