/**
 * The offboard scenario's checks: after the offboard command returns, each instance is asked, in a
 * tight loop bounded by a cap, whether it still accepts the account's Keybound session, refresh
 * token and opaque access token, until it refuses. What counts as a refusal is exactly what
 * test/reliability/offboardInstances.test.ts expects: 401 from GET /api/v1/session, 400
 * `invalid_grant` from a refresh_token grant, 401 from userinfo.
 */
import { FlowError } from './flows.ts';
import type { HttpClient } from './http.ts';
import { tokenRequest, userinfoStatus } from './oidcClient.ts';

export const CHECKS = ['session', 'refreshToken', 'accessTokenUserinfo'] as const;
export type CheckName = (typeof CHECKS)[number];

/** What one account holds before it is offboarded. */
export interface Holdings {
  readonly username: string;
  /** `keybound_session=...` */
  readonly sessionCookie: string;
  readonly refreshToken: string;
  /** Opaque (not a JWT): its only protected resource here is userinfo. */
  readonly accessToken: string;
}

/** One check on one instance for one account. */
export interface CheckOutcome {
  /** From the command's return to the refusal's answer (or to giving up, when `timedOut`). */
  readonly ms: number;
  readonly timedOut: boolean;
  /** Refused on the very first request after the command returned. */
  readonly firstRequest: boolean;
  /** Answers that still accepted the credential after the command returned. */
  readonly accepted: number;
  /** Answers that were neither (another status, no answer): not counted as refusals. */
  readonly unexpected: number;
  readonly unexpectedSample: string | null;
}

type Verdict = { readonly kind: 'refused' } | { readonly kind: 'accepted' } | { readonly kind: 'unexpected'; readonly what: string };

/** One probe of one check; `state` carries a rotated refresh token should one (wrongly) be issued. */
function probe(http: HttpClient, check: CheckName, holdings: Holdings, clientId: string, state: { refreshToken: string }): Promise<Verdict> {
  switch (check) {
    case 'session':
      return http.send('GET', '/api/v1/session', { cookie: holdings.sessionCookie }).then((r) =>
        r.status === 401 ? { kind: 'refused' } : r.status === 200 ? { kind: 'accepted' } : { kind: 'unexpected', what: `HTTP ${r.status}` },
      );
    case 'refreshToken':
      return tokenRequest(http, { grant_type: 'refresh_token', refresh_token: state.refreshToken, client_id: clientId }).then((r): Verdict => {
        if (r.status === 400 && r.json.error === 'invalid_grant') return { kind: 'refused' };
        if (r.status === 200 && r.json.refresh_token) {
          // Accepted after the command: counted against the target; poll on with the token it gave.
          state.refreshToken = r.json.refresh_token;
          return { kind: 'accepted' };
        }
        return { kind: 'unexpected', what: `HTTP ${r.status} ${r.json.error ?? ''}`.trim() };
      });
    case 'accessTokenUserinfo':
      return userinfoStatus(http, holdings.accessToken).then((status) =>
        status === 401 ? { kind: 'refused' } : status === 200 ? { kind: 'accepted' } : { kind: 'unexpected', what: `HTTP ${status}` },
      );
  }
}

/** Polls one check on one instance from `since` (performance.now() when the command returned) until refused or `capMs`. */
export async function untilRefused(
  http: HttpClient,
  input: { check: CheckName; holdings: Holdings; clientId: string; since: number; capMs: number },
): Promise<CheckOutcome> {
  const state = { refreshToken: input.holdings.refreshToken };
  let accepted = 0;
  let unexpected = 0;
  let unexpectedSample: string | null = null;
  for (let attempt = 1; ; attempt++) {
    let verdict: Verdict;
    try {
      verdict = await probe(http, input.check, input.holdings, input.clientId, state);
    } catch (error) {
      verdict = { kind: 'unexpected', what: error instanceof FlowError ? error.message : (error as Error).message };
    }
    const ms = performance.now() - input.since;
    if (verdict.kind === 'refused') return { ms, timedOut: false, firstRequest: attempt === 1, accepted, unexpected, unexpectedSample };
    if (verdict.kind === 'accepted') accepted++;
    else {
      unexpected++;
      unexpectedSample ??= verdict.what;
    }
    if (ms >= input.capMs) return { ms, timedOut: true, firstRequest: false, accepted, unexpected, unexpectedSample };
  }
}

/** Nearest-rank percentile of ascending `sorted` (as the load generator computes them). */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const r2 = (n: number) => Math.round(n * 100) / 100;

/** p50, p99 and max in ms (a timed-out check counts with the time it was given up at, never left out). */
export function spread(values: readonly number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((x, y) => x - y);
  return { p50: r2(percentile(sorted, 50)), p99: r2(percentile(sorted, 99)), max: r2(sorted[sorted.length - 1] ?? 0) };
}

export interface CheckSummary {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly timeouts: number;
  readonly refusedOnFirstRequest: number;
  readonly acceptedAfterCommand: number;
  readonly unexpectedAnswers: number;
  readonly unexpectedSample?: string;
}

export function summarise(outcomes: readonly CheckOutcome[]): CheckSummary {
  const sample = outcomes.find((o) => o.unexpectedSample)?.unexpectedSample;
  return {
    ...spread(outcomes.map((o) => o.ms)),
    timeouts: outcomes.filter((o) => o.timedOut).length,
    refusedOnFirstRequest: outcomes.filter((o) => o.firstRequest).length,
    acceptedAfterCommand: outcomes.reduce((n, o) => n + o.accepted, 0),
    unexpectedAnswers: outcomes.reduce((n, o) => n + o.unexpected, 0),
    ...(sample ? { unexpectedSample: sample } : {}),
  };
}
