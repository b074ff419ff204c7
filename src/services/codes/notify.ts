import { FACTOR_NAME, type CodeFactor } from '../../codes/factors.ts';
import type { Account, RequestContext } from '../../core/model.ts';
import type { Deps } from '../deps.ts';
import { boundChannels, deliverNotice, noticeTime, type Channels } from '../devices/announce.ts';

/** Security notices to the account holder (DESIGN.md principle 5: every recovery notifies the holder). */
export type Notice =
  | { readonly kind: 'authenticator_disabled'; readonly factor: CodeFactor; readonly failures: number }
  | { readonly kind: 'factor_bound'; readonly factor: CodeFactor }
  | { readonly kind: 'factor_removed'; readonly factor: CodeFactor }
  | AccountNotice;

/** What an administrator did to the account (services/lifecycle.ts), told to its holder. */
export type AccountNotice =
  | { readonly kind: 'account_suspended'; readonly reason: string | null }
  | { readonly kind: 'account_resumed' }
  | { readonly kind: 'account_offboarded' }
  | { readonly kind: 'role_changed'; readonly from: string; readonly to: string }
  | { readonly kind: 'account_updated'; readonly fields: readonly string[] }
  | { readonly kind: 'sessions_ended'; readonly sessions: number; readonly grants: number };

function compose(deps: Deps, account: Account, notice: Notice, context: RequestContext | null): { subject: string; text: string } {
  const at = noticeTime(deps.clock());
  const from = context ? ` from ${context.ip}` : '';
  const manage = `Manage your sign-in methods at ${deps.config.publicUrl}/account (sign in with a passkey).`;
  const notYou = 'If this was not you, sign in with your passkey, remove the method, and tell your administrator.';
  const ask = 'If you did not expect this, contact your administrator.';
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
    case 'account_suspended':
      return {
        subject: 'Your account was suspended',
        text: `An administrator suspended your account at ${at}${notice.reason ? ` (reason given: ${notice.reason})` : ''}. Every session and every application's access ended, and no sign-in or recovery works until it is resumed.\n\n${ask}`,
      };
    case 'account_resumed':
      return { subject: 'Your account was resumed', text: `An administrator resumed your account at ${at}. You can sign in with your passkey again.\n\n${ask}` };
    case 'account_offboarded':
      return {
        subject: 'Your account was closed',
        text: `An administrator offboarded your account at ${at}. Its sessions, application access, passkeys, sign-in codes and links were all revoked, and it cannot be used again.\n\n${ask}`,
      };
    case 'role_changed':
      return { subject: 'Your role changed', text: `An administrator changed your role from ${notice.from} to ${notice.to} at ${at}. What you may do, and how you must sign in, follow the new role.\n\n${ask}` };
    case 'account_updated':
      return { subject: 'Your account details changed', text: `An administrator changed your account's ${notice.fields.join(' and ')} at ${at}.\n\n${ask}` };
    case 'sessions_ended':
      return {
        subject: 'You were signed out everywhere',
        text: `An administrator ended every session of your account (${notice.sessions}) and the access of applications you signed in to (${notice.grants}) at ${at}. Sign in again with your passkey.\n\n${ask}`,
      };
  }
}

/** The text message's second sentence: what to do if it was not the holder. */
function shortAdvice(deps: Deps, notice: Notice): string {
  switch (notice.kind) {
    case 'authenticator_disabled':
    case 'factor_bound':
    case 'factor_removed':
      return `Not you? Sign in with your passkey at ${deps.config.publicUrl}/account.`;
    default:
      return 'Not expected? Contact your administrator.';
  }
}

/**
 * Tells the holder on every bound channel (the account's email and every bound email or SMS
 * factor, devices/announce.ts `boundChannels`), and audits each delivery either way. `channels`
 * replaces that lookup for a caller that read them before its change (offboarding disables the
 * factors it would reach; a removed factor is told it was removed). A failed delivery is recorded,
 * never raised: the change it reports has already happened.
 */
export async function notifyHolder(deps: Deps, account: Account, notice: Notice, context: RequestContext | null = null, channels?: Channels): Promise<void> {
  const { subject, text } = compose(deps, account, notice, context);
  const to = channels ?? (await boundChannels(deps.store, account));
  await deliverNotice(deps, account, { kind: notice.kind, subject, text, short: shortAdvice(deps, notice) }, to, context, 'no_bound_channel');
}

/** Both sets of addresses, each once. */
export function joinChannels(a: Channels, b: Channels): Channels {
  return { email: [...new Set([...a.email, ...b.email])], sms: [...new Set([...a.sms, ...b.sms])] };
}
