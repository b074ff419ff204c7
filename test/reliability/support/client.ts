/**
 * An HTTP client for the reliability tests against real server processes: every request is bounded
 * (a hang shows up as `timeout`, never as a stuck test), counted, and answers a plain value, so a
 * killed server or a cut connection is data to check rather than an exception.
 */
import type { Tally } from './report.ts';

export interface Answer {
  /** HTTP status; 0 when no answer came (`failure` says why). */
  readonly status: number;
  readonly failure: 'timeout' | 'network' | null;
  readonly headers: Headers;
  /** Parsed JSON body, or `undefined`. */
  readonly json: any;
  readonly text: string;
  readonly ms: number;
  /** `name=value` of the session cookie the answer set, if any. */
  readonly sessionCookie: string | null;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly cookie?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** The default bound on every request: far above any healthy answer, far below "hung". */
export const REQUEST_BOUND_MS = 5_000;

export class Client {
  constructor(
    readonly baseUrl: string,
    /** `forwardedFor`: the client address a proxy would report (a function: a new one per request). */
    private readonly options: { tally?: Tally; origin?: string; forwardedFor?: string | (() => string) } = {},
  ) {}

  get(path: string, options: RequestOptions = {}): Promise<Answer> {
    return this.request('GET', path, options);
  }

  post(path: string, body: unknown, options: RequestOptions = {}): Promise<Answer> {
    return this.request('POST', path, { ...options, body });
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
    if (this.options.tally) this.options.tally.requests++;
    const headers: Record<string, string> = {
      ...(this.options.origin ? { origin: this.options.origin } : {}),
      ...(this.options.forwardedFor ? { 'x-forwarded-for': typeof this.options.forwardedFor === 'string' ? this.options.forwardedFor : this.options.forwardedFor() } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.cookie ? { cookie: options.cookie } : {}),
      ...options.headers,
    };
    const started = performance.now();
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? REQUEST_BOUND_MS),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      const cookie = response.headers.getSetCookie().find((c) => /^(__Host-)?keybound_session=[^;]+/.test(c));
      return {
        status: response.status,
        failure: null,
        headers: response.headers,
        json,
        text,
        ms: performance.now() - started,
        sessionCookie: cookie ? cookie.split(';')[0]! : null,
      };
    } catch (error) {
      const name = (error as Error).name;
      return {
        status: 0,
        failure: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network',
        headers: new Headers(),
        json: undefined,
        text: String((error as Error).message),
        ms: performance.now() - started,
        sessionCookie: null,
      };
    }
  }
}

/** Polls `check` every `intervalMs` until it holds; resolves with the time it took, or throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, { timeoutMs, intervalMs = 50, what }: { timeoutMs: number; intervalMs?: number; what: string }): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
