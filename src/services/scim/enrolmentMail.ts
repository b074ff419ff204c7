import type { Account, RequestContext } from '../../core/model.ts';
import type { Deps } from '../deps.ts';

/**
 * Sends a provisioned account its enrolment link (docs/scim.md): the link is in the email only,
 * never in the SCIM answer or a log. Without an address or an SMTP server the link is not sent
 * (audited as such); `keybound invite <username>` issues a new one.
 */
export async function mailEnrolmentLink(deps: Deps, account: Account, link: { url: string; expiresAt: number }, context: RequestContext | null): Promise<void> {
  const reason = !account.email ? 'no_email_address' : !deps.mailer ? 'no_smtp_server' : null;
  let outcome: { ok: true } | { ok: false; reason: string } = reason ? { ok: false, reason } : { ok: true };
  if (!reason) {
    outcome = await deps.mailer!.send({
      to: account.email!,
      subject: 'Set up your passkey to sign in',
      text: [
        `Hello ${account.displayName},`,
        '',
        `An account was made for you (${account.username}). You sign in with a passkey, not a password. To set it up, open this link on the device you will use:`,
        '',
        link.url,
        '',
        `The link works once and until ${new Date(link.expiresAt).toISOString()}. If you did not expect it, ignore this message.`,
      ].join('\n'),
    });
  }
  if (!outcome.ok) deps.log.warn({ event: 'scim.enrolment_link_not_sent', account: account.id, reason: outcome.reason }, 'enrolment link not sent');
  await deps.store.audit.append({
    type: 'scim.enrolment_link_sent',
    outcome: outcome.ok ? 'success' : 'failure',
    accountId: account.id,
    context,
    at: deps.clock(),
    details: outcome.ok ? { channel: 'email' } : { reason: outcome.reason },
  });
}
