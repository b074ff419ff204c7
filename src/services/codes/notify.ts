import { FACTOR_NAME, type CodeFactor } from '../../codes/factors.ts';
import type { Account, RequestContext } from '../../core/model.ts';
import type { Deps } from '../deps.ts';

/** Security notices to the account holder (DESIGN.md principle 5: every recovery notifies the holder). */
export type Notice =
  | { readonly kind: 'authenticator_disabled'; readonly factor: CodeFactor; readonly failures: number }
  | { readonly kind: 'factor_bound'; readonly factor: CodeFactor }
  | { readonly kind: 'factor_removed'; readonly factor: CodeFactor };

function compose(deps: Deps, account: Account, notice: Notice, context: RequestContext | null): { subject: string; text: string } {
  const at = `${new Date(deps.clock()).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
  const from = context ? ` from ${context.ip}` : '';
  const manage = `Manage your sign-in methods at ${deps.config.publicUrl}/account (sign in with a passkey).`;
  const notYou = 'If this was not you, sign in with your passkey, remove the method, and tell your administrator.';
  switch (notice.kind) {
    case 'authenticator_disabled':
      return {
        subject: 'A sign-in method on your account was disabled',
        text: `${FACTOR_NAME[notice.factor]} was disabled at ${at} after ${notice.failures} wrong codes in a row. Someone may be guessing codes for your account.\n\nSign in with your passkey and set it up again if you still need it; passkeys cannot be guessed or phished.\n${manage}`,
      };
    case 'factor_bound':
      return { subject: 'A sign-in method was added to your account', text: `${FACTOR_NAME[notice.factor]} was added to your account at ${at}${from}.\n\n${notYou}\n${manage}` };
    case 'factor_removed':
      return { subject: 'A sign-in method was removed from your account', text: `${FACTOR_NAME[notice.factor]} was removed from your account at ${at}${from}.\n\n${notYou}\n${manage}` };
  }
}

/**
 * Tells the holder by email when an address is known, and audits what happened either way. A
 * failed delivery is recorded, never raised: the change it reports has already happened.
 */
export async function notifyHolder(deps: Deps, account: Account, notice: Notice, context: RequestContext | null = null): Promise<void> {
  const at = deps.clock();
  const audit = (outcome: 'success' | 'failure', reason: string | null) =>
    deps.store.audit.append({ type: 'notice.email', outcome, reason, accountId: account.id, context, at, details: { notice: notice.kind } });
  if (!account.email) return void (await audit('failure', 'no_email_address'));
  if (!deps.mailer) return void (await audit('failure', 'no_mail_server'));
  const { subject, text } = compose(deps, account, notice, context);
  const sent = await deps.mailer.send({ to: account.email, subject, text });
  deps.metrics.codeDeliveries.inc({ channel: 'email', result: sent.ok ? 'sent' : sent.reason });
  await audit(sent.ok ? 'success' : 'failure', sent.ok ? null : sent.reason);
}
