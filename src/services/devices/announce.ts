import type { Account, RequestContext } from '../../core/model.ts';
import type { Store } from '../../store/index.ts';
import type { Deps } from '../deps.ts';

/** A security notice for the holder, in words for every channel. */
export interface Announcement {
  /** Stable name for the audit trail (`passkey_added_by_link`, `passkey_lost`). */
  readonly kind: string;
  readonly subject: string;
  /** The email body; the text message is the subject and `short`. */
  readonly text: string;
  readonly short: string;
}

/** Where a notice reaches the holder. */
export interface Channels {
  readonly email: readonly string[];
  readonly sms: readonly string[];
}

/**
 * Where the holder can be reached: the account's email, and every bound email or SMS factor. Read
 * through `store` (a transaction's, to read them before a change that disables the factors).
 */
export async function boundChannels(store: Store, account: Account): Promise<Channels> {
  const email = new Set<string>();
  const sms = new Set<string>();
  if (account.email) email.add(account.email.toLowerCase());
  for (const factor of await store.authenticators.listBound(account.id)) {
    if (factor.destination === null) continue;
    if (factor.kind === 'email_code') email.add(factor.destination.toLowerCase());
    if (factor.kind === 'sms_code') sms.add(factor.destination);
  }
  return { email: [...email], sms: [...sms] };
}

/**
 * Tells the holder on every bound channel (DESIGN.md: every way into an account is announced to
 * the holder), and audits each delivery (`notice.email`, `notice.sms`) with the notice's kind. A
 * failed delivery is recorded, never raised: the change it reports has already happened.
 */
export async function announceToHolder(deps: Deps, account: Account, notice: Announcement, context: RequestContext | null = null): Promise<void> {
  await deliverNotice(deps, account, notice, await boundChannels(deps.store, account), context, 'no_bound_channel');
}

/**
 * Sends one notice to the given addresses and audits each delivery; with no address at all, audits
 * `nowhere` as the reason. The one place notices reach the mail server and the SMS gateway
 * (`announceToHolder` here, and `notifyHolder` in codes/notify.ts).
 */
export async function deliverNotice(
  deps: Deps,
  account: Account,
  notice: Announcement,
  channels: Channels,
  context: RequestContext | null,
  nowhere: string,
): Promise<void> {
  const at = deps.clock();
  const audit = (type: 'notice.email' | 'notice.sms', outcome: 'success' | 'failure', reason: string | null) =>
    deps.store.audit.append({ type, outcome, reason, accountId: account.id, context, at, details: { notice: notice.kind } });
  if (channels.email.length === 0 && channels.sms.length === 0) return void (await audit('notice.email', 'failure', nowhere));
  for (const to of channels.email) {
    if (!deps.mailer) {
      await audit('notice.email', 'failure', 'no_mail_server');
      continue;
    }
    const sent = await deps.mailer.send({ to, subject: notice.subject, text: notice.text });
    deps.metrics.codeDeliveries.inc({ channel: 'email', result: sent.ok ? 'sent' : sent.reason });
    await audit('notice.email', sent.ok ? 'success' : 'failure', sent.ok ? null : sent.reason);
  }
  for (const to of channels.sms) {
    if (!deps.sms) {
      await audit('notice.sms', 'failure', 'sms_off');
      continue;
    }
    const sent = await deps.sms.send(to, `${deps.config.rpName}: ${notice.subject}. ${notice.short}`);
    deps.metrics.codeDeliveries.inc({ channel: 'sms', result: sent.ok ? 'sent' : sent.reason });
    await audit('notice.sms', sent.ok ? 'success' : 'failure', sent.ok ? null : sent.reason);
  }
}

/** `2026-11-29 12:00 UTC`, the way notices write times. */
export function noticeTime(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}
