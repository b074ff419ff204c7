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

/**
 * Email over SMTP through nodemailer, from `KEYBOUND_SMTP_URL` (`smtp://` upgrades with STARTTLS
 * when the server offers it; `smtps://` is TLS from the start). `null` when no SMTP server is
 * configured: email codes are then unavailable and security notices are only audited.
 */
export function createMailer(config: MailConfig): Mailer | null {
  if (!config.smtpUrl) return null;
  // Bounded waits: a stuck SMTP server must not hold a request for minutes.
  const transport = nodemailer.createTransport({ url: config.smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 15_000 }, { from: config.from });
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
