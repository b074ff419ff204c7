import nodemailer from 'nodemailer';
import type { MailConfig } from '../config/load.ts';

/** An email to one person: plain text only, nothing to render, nothing remote to load. */
export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export type DeliveryOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface Mailer {
  send(message: MailMessage): Promise<DeliveryOutcome>;
  close(): void;
}

/** Whether an SMTP host is this machine, where the connection never crosses a network. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/**
 * nodemailer's options for `KEYBOUND_SMTP_URL`. Email carries one-time codes and security notices, so
 * it never travels in the clear over a network: `smtps://` is TLS from the start, and `smtp://` to
 * any host but this machine must upgrade with STARTTLS (`requireTLS`: a server that does not offer
 * it, or a STARTTLS line stripped on the way, fails the delivery instead of sending in plain text).
 * The URL is taken apart here rather than handed to nodemailer, whose URL options (`?ignoreTLS=true`)
 * would override these.
 */
export function smtpTransportOptions(smtpUrl: string) {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    requireTLS: !secure && !isLoopbackHost(host),
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    // Bounded waits: a stuck SMTP server must not hold a request for minutes.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 15_000,
  };
}

/**
 * Email over SMTP through nodemailer, from `KEYBOUND_SMTP_URL` (see `smtpTransportOptions` for TLS).
 * `null` when no SMTP server is configured: email codes are then unavailable and security notices
 * are only audited.
 */
export function createMailer(config: MailConfig): Mailer | null {
  if (!config.smtpUrl) return null;
  const transport = nodemailer.createTransport(smtpTransportOptions(config.smtpUrl), { from: config.from });
  return {
    async send(message) {
      try {
        await transport.sendMail({ to: message.to, subject: message.subject, text: message.text, disableFileAccess: true, disableUrlAccess: true });
        return { ok: true };
      } catch (error) {
        // The cause goes to the caller's log, never to the client: it can name hosts and accounts.
        return { ok: false, reason: (error as { code?: string }).code ?? 'smtp_error' };
      }
    },
    close: () => transport.close(),
  };
}
