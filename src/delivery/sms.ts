import type { SmsConfig } from '../config/load.ts';

/**
 * Sending a text message. A provider may also say when the number's SIM last changed (a SIM swap
 * is how SMS codes are stolen): `simChangedAt`, in milliseconds, or `null` when it does not know.
 */
export type SmsOutcome = { readonly ok: true; readonly simChangedAt: number | null } | { readonly ok: false; readonly reason: string };

export interface SmsProvider {
  readonly name: 'http' | 'console';
  send(to: string, message: string): Promise<SmsOutcome>;
}

/** The configured provider, or `null` when SMS is off. */
export function createSmsProvider(config: SmsConfig, log: (line: string) => void): SmsProvider | null {
  if (config.provider === 'http' && config.url) return httpSmsProvider(config.url, config.token);
  if (config.provider === 'console') return consoleSmsProvider(log);
  return null;
}

/**
 * POSTs `{"to", "message"}` as JSON to a gateway (with `Authorization: Bearer <token>` when one is
 * configured). Any 2xx is sent; the JSON answer may carry `simChangedAt` as an ISO 8601 time or
 * epoch milliseconds. Waits at most 10 s.
 */
export function httpSmsProvider(url: string, token: string | null): SmsProvider {
  return {
    name: 'http',
    async send(to, message) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ to, message }),
          signal: AbortSignal.timeout(10_000),
          redirect: 'error',
        });
      } catch (error) {
        return { ok: false, reason: (error as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable' };
      }
      const body = (await response.json().catch(() => null)) as { simChangedAt?: unknown } | null;
      if (!response.ok) return { ok: false, reason: `http_${response.status}` };
      return { ok: true, simChangedAt: parseTime(body?.simChangedAt) };
    },
  };
}

/** Development only (a boot warning says so): prints the message instead of sending it. */
export function consoleSmsProvider(log: (line: string) => void): SmsProvider {
  return {
    name: 'console',
    async send(to, message) {
      log(`[sms to ${to}] ${message.replace(/\n/g, ' | ')}`);
      return { ok: true, simChangedAt: null };
    },
  };
}

function parseTime(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  if (typeof value === 'string' && value.length <= 64) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}
