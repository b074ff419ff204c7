/**
 * Real components for the code tests, on loopback: an HTTP SMS gateway that records what it is
 * sent (and can report a SIM change), an SMTP server (smtp-server) that keeps every message, and
 * TOTP helpers that read the seed from the otpauth URI the way an authenticator app does.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { base32Decode } from '../../src/codes/base32.ts';
import { totpAt, timeStep, type TotpParams } from '../../src/codes/totp.ts';
import type { TestApp } from '../helpers/app.ts';

export interface SmsSink {
  readonly url: string;
  readonly received: { to: string; message: string; headers: IncomingMessage['headers'] }[];
  /** What the next answers report as the SIM's last change (`null`: nothing). */
  simChangedAt: string | number | null;
  /** Answer this status instead of 200. */
  status: number;
  /** Resolves with the code of the next message to `to` (or the latest already there). */
  codeFor(to: string, after?: number): Promise<string>;
  close(): Promise<void>;
}

async function waitFor<T>(read: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const codeIn = (text: string) => /\b([0-9]{6,10})\b/.exec(text)?.[1];

export function startSmsSink(): Promise<SmsSink> {
  const sink: Omit<SmsSink, 'url' | 'close'> & { server?: Server } = {
    received: [],
    simChangedAt: null,
    status: 200,
    codeFor: (to, after = 0) =>
      waitFor(() => {
        const found = sink.received.slice(after).filter((m) => m.to === to).at(-1);
        return found ? codeIn(found.message) : undefined;
      }, `an SMS to ${to}`),
  };
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const parsed = JSON.parse(body) as { to: string; message: string };
      sink.received.push({ to: parsed.to, message: parsed.message, headers: request.headers });
      response.writeHead(sink.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ id: `msg-${sink.received.length}`, ...(sink.simChangedAt !== null ? { simChangedAt: sink.simChangedAt } : {}) }));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(Object.assign(sink, { url: `http://127.0.0.1:${port}/sms`, close: () => new Promise<void>((done) => server.close(() => done())) }) as SmsSink);
    });
  });
}

export interface MailSink {
  readonly url: string;
  readonly messages: { to: string[]; raw: string }[];
  codeFor(to: string, after?: number): Promise<string>;
  /** The next message to `to` after the first `after` messages. */
  messageFor(to: string, after?: number): Promise<{ to: string[]; raw: string }>;
  close(): Promise<void>;
}

/** smtp-server on 127.0.0.1, no TLS, no AUTH: it stores every message whole. */
export function startMailSink(): Promise<MailSink> {
  const messages: MailSink['messages'] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (raw += chunk));
      stream.on('end', () => {
        messages.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  const messageFor = (to: string, after = 0) => waitFor(() => messages.slice(after).find((m) => m.to.includes(to)), `an email to ${to}`);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.server.address() as AddressInfo;
      resolve({
        url: `smtp://127.0.0.1:${port}`,
        messages,
        messageFor,
        codeFor: async (to, after = 0) => {
          const message = await messageFor(to, after);
          const body = message.raw.split(/\r?\n\r?\n/).slice(1).join('\n');
          const code = codeIn(body);
          if (!code) throw new Error(`no code in the message to ${to}`);
          return code;
        },
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/** An authenticator app: the seed and parameters from an otpauth URI, and the code at a time. */
export class TotpApp {
  readonly seed: Uint8Array;
  readonly params: TotpParams;

  constructor(uri: string) {
    const url = new URL(uri);
    this.seed = base32Decode(url.searchParams.get('secret')!)!;
    this.params = { algorithm: url.searchParams.get('algorithm') as TotpParams['algorithm'], digits: Number(url.searchParams.get('digits')) as 6 | 8, period: Number(url.searchParams.get('period')) };
  }

  /** The code `offset` steps from the step containing `nowMs`. */
  code(nowMs: number, offset = 0): string {
    return totpAt(this.seed, timeStep(nowMs, this.params.period) + offset, this.params);
  }

  /**
   * For a server on the real clock: the previous step's code, which the server accepts (it accepts
   * the current step and the one before, never a later one), so the current step stays free for a
   * sign-in right after. Waits out the last 2 s of a step first, so the step cannot change between
   * computing the code and the server checking it.
   */
  async previousCodeNow(): Promise<string> {
    const periodMs = this.params.period * 1000;
    const left = periodMs - (Date.now() % periodMs);
    if (left < 2000) await new Promise((resolve) => setTimeout(resolve, left + 50));
    return this.code(Date.now(), -1);
  }
}

/**
 * Role settings for tests that use code factors: no role gets any by default (phishing-resistant by
 * default, OWASP ASVS 5.0 6.3.3), so these tests allow `member` the authenticator app (recovery codes need no setting: README "Recovery").
 */
export const MEMBER_CODES_ENV = { KEYBOUND_MEMBER_CODE_FACTORS: 'totp', KEYBOUND_MEMBER_MIN_AAL: '1' } as const;

/**
 * Binds TOTP from the enrolment session `cookie` and confirms it with the previous step's code, as a
 * person typing a code just as it changed would: the current step (`app.code(t.clock.now)`) is left
 * for a sign-in without moving the clock.
 */
export async function enrolTotp(t: TestApp, cookie: string): Promise<TotpApp> {
  const begun = await t.post('/api/v1/totp', {}, cookie);
  if (begun.statusCode !== 201) throw new Error(`POST /api/v1/totp: ${begun.statusCode} ${begun.body}`);
  const app = new TotpApp(begun.json().otpauthUri);
  const confirmed = await t.post('/api/v1/totp/confirm', { code: app.code(t.clock.now, -1) }, cookie);
  if (confirmed.statusCode !== 200) throw new Error(`POST /api/v1/totp/confirm: ${confirmed.statusCode} ${confirmed.body}`);
  return app;
}

/** Starts and finishes a code sign-in (carrying `cookie`, if given, as a browser would); returns the verify response. */
export async function codeSignIn(t: TestApp, username: string, factor: string, code: string | ((attemptId: string) => Promise<string>), cookie?: string) {
  const start = await t.post('/api/v1/codes/sign-in/start', { username, factor });
  if (start.statusCode !== 200) throw new Error(`start: ${start.statusCode} ${start.body}`);
  const { attemptId } = start.json() as { attemptId: string };
  return t.post('/api/v1/codes/sign-in/verify', { attemptId, code: typeof code === 'string' ? code : await code(attemptId) }, cookie);
}
