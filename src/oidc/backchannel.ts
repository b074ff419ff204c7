import { importJWK, SignJWT, type JWK } from 'jose';
import { base64url } from '../core/bytes.ts';
import type { Deps } from '../services/deps.ts';
import type { LogoutOutboxRow, OidcClientRow, Store } from '../store/ports.ts';
import { loadSigningKeys } from './keys.ts';
import { OutboxDispatcher, OutboxSender, pauseAfter, type Attempt, type DispatchLog, type OutboxTiming } from '../delivery/outbox.ts';

/**
 * OpenID Connect Back-Channel Logout 1.0. When a Keybound session ends (services/sessions.ts
 * endSessions, for every reason but a sign-in replacing it in the same browser), each client holding
 * a grant bound to it (services/grants.ts) that registered a `backchannel_logout_uri` is sent a
 * Logout Token (§2.4) by POST (§2.5).
 *
 * oidc-provider's own `features.backchannelLogout` is enabled for what fits (client metadata,
 * discovery, `sid` in ID tokens) but its sender is not used (provider.ts turns it off): it sends
 * only from its RP-initiated logout, for its own session, awaited inside that request, once. Keybound
 * sessions end in many more ways (sign-out, revocation, the session limit, clone detection, account
 * changes), none of which pass through the provider.
 *
 * Delivery is an outbox: `queueLogouts` writes one row per token in the transaction that ends the
 * session, so a token exists only if the ending committed, and no request waits for a client. Any
 * instance's `LogoutDispatcher` sends due rows after that, at most `maxInFlight` at a time, each
 * attempt bounded by `timeoutMs`, up to `maxAttempts` with growing pauses; each outcome is counted
 * (`keybound_backchannel_logouts_total`) and the final one audited. The token itself is never
 * stored or logged: it is signed at each attempt, with the row's id as its `jti`.
 */

export const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface DispatchSettings extends OutboxTiming {
  /** Attempts per token, the first included. */
  readonly maxAttempts: number;
  /** Pause before attempt 2, 3, ... (the last entry repeats). */
  readonly backoffMs: readonly number[];
  /** Lifetime of a Logout Token (`exp` - `iat`). */
  readonly tokenTtlS: number;
}

export const DISPATCH_DEFAULTS: DispatchSettings = { timeoutMs: 5_000, maxAttempts: 4, backoffMs: [10_000, 60_000, 300_000], maxInFlight: 8, pollMs: 1_000, tokenTtlS: 120 };

/** Back-Channel Logout §2.2: the client metadata Keybound reads (set by `clients create --backchannel-logout-uri`). */
function logoutUri(client: OidcClientRow | undefined): string | null {
  const uri = client?.metadata.backchannel_logout_uri;
  return typeof uri === 'string' ? uri : null;
}

/**
 * Writes the Logout Tokens owed for an ended session into the outbox, inside the caller's
 * transaction; call it before the session's grants are ended (it reads their bindings). One token
 * per client and session id (`sid`), or per client and person where the client did not ask for
 * `sid`. Returns how many were queued.
 */
export async function queueLogouts(deps: Deps, tx: Store, ended: { sessionId: string; reason: string; at: number }): Promise<number> {
  const bindings = await tx.oidcGrantSessions.findBySessions([ended.sessionId]);
  const clients = new Map<string, OidcClientRow | undefined>();
  const seen = new Set<string>();
  const rows: LogoutOutboxRow[] = [];
  for (const b of bindings) {
    if (!b.clientId) continue;
    if (!clients.has(b.clientId)) clients.set(b.clientId, await tx.oidcClients.find(b.clientId));
    const client = clients.get(b.clientId);
    if (!logoutUri(client)) continue;
    // §2.4: `sid` goes in when the client registered `backchannel_logout_session_required` (its ID
    // tokens then carry the same `sid`, oidc-provider's includeSid); `sub` always.
    const sid = client!.metadata.backchannel_logout_session_required === true ? (b.sid ?? null) : null;
    const key = `${b.clientId}\n${sid ?? `sub:${b.accountId}`}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ id: base64url.encode(deps.random(16)), clientId: b.clientId, accountId: b.accountId, sid, sessionId: ended.sessionId, reason: ended.reason, attempts: 0, createdAt: ended.at, nextAttemptAt: ended.at });
  }
  await tx.oidcLogoutOutbox.enqueue(rows);
  return rows.length;
}

/**
 * The Logout Token (§2.4): signed with the provider's signing key of the algorithm the client's ID
 * tokens use, `typ` `logout+jwt` (§2.4, §4.1: no ID token can pass for one), `iss`, `aud`, `iat`,
 * a short `exp`, `jti`, the back-channel logout event, `sub`, and `sid` when the client asked.
 * Never a `nonce` (§2.4: "A Logout Token MUST NOT contain a nonce Claim").
 */
export async function signLogoutToken(deps: Deps, row: LogoutOutboxRow, client: OidcClientRow, ttlS: number): Promise<string> {
  const wanted = typeof client.metadata.id_token_signed_response_alg === 'string' ? client.metadata.id_token_signed_response_alg : deps.config.oidc.signingAlg;
  const { jwks } = await loadSigningKeys(deps);
  // loadSigningKeys lists the key that signs now first for each algorithm.
  const jwk = (jwks.keys.find((k) => k.alg === wanted) ?? jwks.keys.find((k) => k.alg === deps.config.oidc.signingAlg)) as JWK | undefined;
  if (!jwk?.alg || !jwk.kid) throw new Error('no signing key for the logout token');
  const iat = Math.floor(deps.clock() / 1000);
  return new SignJWT({ events: { [LOGOUT_EVENT]: {} }, ...(row.sid ? { sid: row.sid } : {}) })
    .setProtectedHeader({ alg: jwk.alg, kid: jwk.kid, typ: 'logout+jwt' })
    .setIssuer(deps.config.oidc.issuer)
    .setAudience(row.clientId)
    .setSubject(row.accountId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlS)
    .setJti(row.id)
    .sign(await importJWK(jwk, jwk.alg));
}

/** What one attempt came to; `final` failures are not tried again. */
export type { DispatchLog } from '../delivery/outbox.ts';

/** Sends the outbox's due Logout Tokens (one per instance; see the module comment and delivery/outbox.ts). */
export class LogoutDispatcher extends OutboxSender<LogoutOutboxRow> {
  protected readonly engine: OutboxDispatcher<LogoutOutboxRow>;

  constructor(
    private readonly deps: Deps,
    private readonly log: DispatchLog,
    readonly settings: DispatchSettings = DISPATCH_DEFAULTS,
  ) {
    super();
    this.engine = new OutboxDispatcher<LogoutOutboxRow>(
      { label: 'back-channel logout', event: 'oidc.backchannel_logout', port: () => deps.store.oidcLogoutOutbox, clock: deps.clock, timing: settings, deliver: (row) => this.deliver(row) },
      log,
    );
  }

  private async deliver(row: LogoutOutboxRow): Promise<void> {
    const { store, metrics } = this.deps;
    const client = await store.oidcClients.find(row.clientId);
    const uri = logoutUri(client);
    const attempt: Attempt = uri ? await this.post(uri, row, client!) : { ok: false, reason: 'client_gone', final: true };
    const now = this.deps.clock();
    if (!attempt.ok && attempt.reason === 'stopped') {
      await store.oidcLogoutOutbox.reschedule(row.id, now);
      return;
    }
    if (!attempt.ok && !attempt.final && row.attempts < this.settings.maxAttempts) {
      await store.oidcLogoutOutbox.reschedule(row.id, now + pauseAfter(this.settings.backoffMs, row.attempts));
      metrics.backchannelLogouts.inc({ result: 'retry' });
      return;
    }
    await store.oidcLogoutOutbox.remove(row.id);
    metrics.backchannelLogouts.inc({ result: attempt.ok ? 'delivered' : 'failed' });
    const details = { clientId: row.clientId, session: row.sessionId, sessionEnded: row.reason, logoutId: row.id, attempts: row.attempts, sid: row.sid !== null };
    await store.audit.append({
      type: 'oidc.backchannel_logout',
      outcome: attempt.ok ? 'success' : 'failure',
      reason: attempt.ok ? null : attempt.reason,
      accountId: row.accountId,
      at: now,
      details,
    });
    if (!attempt.ok) this.log.warn({ event: 'oidc.backchannel_logout.failed', client: row.clientId, reason: attempt.reason, attempts: row.attempts }, 'back-channel logout not delivered');
  }

  /** One POST (§2.5); the client answers 200 (or 204) when it has logged the session out (§2.8). */
  private async post(uri: string, row: LogoutOutboxRow, client: OidcClientRow): Promise<Attempt> {
    const token = await signLogoutToken(this.deps, row, client, this.settings.tokenTtlS);
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    try {
      const response = await fetch(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }),
        // A redirect is not an answer (§2.8); following one would send the token somewhere else.
        redirect: 'manual',
        signal: AbortSignal.any([this.engine.signal, timeout]),
      });
      await response.body?.cancel();
      if (response.status === 200 || response.status === 204) return { ok: true };
      // §2.8: 400 means the client refused the token; sending it again will not change that.
      const final = response.status >= 300 && response.status < 500 && response.status !== 408 && response.status !== 429;
      return { ok: false, reason: `http_${response.status}`, final };
    } catch {
      if (this.engine.signal.aborted) return { ok: false, reason: 'stopped', final: false };
      return { ok: false, reason: timeout.aborted ? 'timeout' : 'unreachable', final: false };
    }
  }
}
