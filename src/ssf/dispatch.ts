import { importJWK, SignJWT, type JWK } from 'jose';
import { OutboxDispatcher, OutboxSender, pauseAfter, type Attempt, type DispatchLog, type OutboxTiming } from '../delivery/outbox.ts';
import type { Deps } from '../services/deps.ts';
import type { SsfOutboxRow, SsfStream } from '../store/ports.ts';
import { loadSigningKeys } from '../oidc/keys.ts';
import { openAuthorization } from './streams.ts';

/**
 * Push delivery of Security Event Tokens (RFC 8935) from the Shared Signals outbox (ssf/events.ts),
 * by any instance, through the dispatcher the back-channel logout outbox uses (delivery/outbox.ts):
 * each SET is claimed atomically, so of any number of instances one sends it; a failed attempt is
 * tried again after a growing pause of at most 24 hours; each stream counts what was delivered
 * and given up (ssf/streams.ts shows it in the stream's status).
 */
export interface SsfDispatchSettings extends OutboxTiming {
  /** Attempts per SET, the first included. */
  readonly maxAttempts: number;
  /** Pause before attempt 2, 3, ... (the last entry repeats). */
  readonly backoffMs: readonly number[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Ten attempts over about three and a half days; no pause longer than a day. */
export const SSF_DISPATCH_DEFAULTS: SsfDispatchSettings = {
  timeoutMs: 5_000,
  maxAttempts: 10,
  backoffMs: [10_000, MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 6 * HOUR, 24 * HOUR],
  maxInFlight: 8,
  pollMs: 1_000,
};

/**
 * The SET (RFC 8417 §2; SSF 1.0 §4.1): `typ` `secevent+jwt` (§4.1.1), `iss` the issuer, `aud` the
 * stream's client, `iat`, `jti` (the outbox row's id, the same at every attempt), `txn`, a
 * top-level `sub_id` (§3; `iss_sub` with the account id, the `sub` of Keybound's ID tokens, or the
 * stream's id as `opaque` for verification, §8.1.4.1) and one event (§4.2.1). Never `sub` (§4.1.2)
 * nor `exp` (§4.1.7). Signed with the provider's current key of the configured algorithm.
 */
export async function signSet(deps: Deps, row: SsfOutboxRow, stream: SsfStream): Promise<string> {
  const alg = deps.config.oidc.signingAlg;
  const { jwks } = await loadSigningKeys(deps);
  // loadSigningKeys lists the key that signs now first for each algorithm.
  const jwk = jwks.keys.find((k) => k.alg === alg) as JWK | undefined;
  if (!jwk?.alg || !jwk.kid) throw new Error('no signing key for security event tokens');
  const iss = deps.config.oidc.issuer;
  const subId = row.payload.accountId === null ? { format: 'opaque', id: stream.id } : { format: 'iss_sub', iss, sub: row.payload.accountId };
  return new SignJWT({ txn: row.txn, sub_id: subId, events: { [row.eventType]: row.payload.event } })
    .setProtectedHeader({ alg: jwk.alg, kid: jwk.kid, typ: 'secevent+jwt' })
    .setIssuer(iss)
    .setAudience(stream.clientId)
    .setIssuedAt(Math.floor(deps.clock() / 1000))
    .setJti(row.id)
    .sign(await importJWK(jwk, jwk.alg));
}

export class SsfDispatcher extends OutboxSender<SsfOutboxRow> {
  protected readonly engine: OutboxDispatcher<SsfOutboxRow>;

  constructor(
    private readonly deps: Deps,
    private readonly log: DispatchLog,
    readonly settings: SsfDispatchSettings = SSF_DISPATCH_DEFAULTS,
  ) {
    super();
    this.engine = new OutboxDispatcher<SsfOutboxRow>(
      { label: 'shared signals', event: 'ssf.delivery', port: () => deps.store.ssfOutbox, clock: deps.clock, timing: settings, deliver: (row) => this.deliver(row) },
      log,
    );
  }

  private async deliver(row: SsfOutboxRow): Promise<void> {
    const { store } = this.deps;
    const stream = await store.ssfStreams.findById(row.streamId);
    // Deleted meanwhile (its rows went with it), or its client is gone: nobody to send it to.
    const client = stream ? await store.oidcClients.find(stream.clientId) : undefined;
    if (!stream || !client) {
      await store.ssfOutbox.remove(row.id);
      return;
    }
    const attempt = await this.post(stream, row);
    const now = this.deps.clock();
    if (!attempt.ok && attempt.reason === 'stopped') {
      await store.ssfOutbox.reschedule(row.id, now);
      return;
    }
    if (!attempt.ok && !attempt.final && row.attempts < this.settings.maxAttempts) {
      await store.transaction(async (tx) => {
        await tx.ssfOutbox.reschedule(row.id, now + pauseAfter(this.settings.backoffMs, row.attempts));
        await tx.ssfStreams.recordOutcome(stream.id, { delivered: false, reason: `${attempt.reason} (will retry)`, at: now });
      });
      this.deps.metrics.ssfEvents.inc({ result: 'retry' });
      return;
    }
    // One transaction: the stream's counts and what is pending always add up.
    await store.transaction(async (tx) => {
      await tx.ssfOutbox.remove(row.id);
      await tx.ssfStreams.recordOutcome(stream.id, attempt.ok ? { delivered: true, at: now } : { delivered: false, reason: attempt.reason, at: now });
    });
    this.deps.metrics.ssfEvents.inc({ result: attempt.ok ? 'delivered' : 'failed' });
    if (!attempt.ok) {
      this.log.warn({ event: 'ssf.delivery.failed', stream: stream.id, client: stream.clientId, reason: attempt.reason, attempts: row.attempts }, 'security event token not delivered');
      await store.audit.append({
        type: 'ssf.delivery_failed',
        outcome: 'failure',
        reason: attempt.reason,
        accountId: row.payload.accountId,
        at: now,
        details: { stream: stream.id, clientId: stream.clientId, eventType: row.eventType, jti: row.id, attempts: row.attempts },
      });
    }
  }

  /** RFC 8935 §2: one POST of the SET; §2.2: 202 Accepted is success; §2.3: 400 is a refusal sending again will not change. */
  private async post(stream: SsfStream, row: SsfOutboxRow): Promise<Attempt> {
    const token = await signSet(this.deps, row, stream);
    const authorization = openAuthorization(this.deps, stream);
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    try {
      const response = await fetch(stream.endpointUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/secevent+jwt',
          accept: 'application/json',
          // SSF 1.0 §6.1.1: the receiver's authorization header, sent with every request when it gave one.
          ...(authorization ? { authorization } : {}),
        },
        body: token,
        // A redirect is not an answer; following one would send the SET somewhere else.
        redirect: 'manual',
        signal: AbortSignal.any([this.engine.signal, timeout]),
      });
      await response.body?.cancel();
      if (response.status === 202 || response.status === 200 || response.status === 204) return { ok: true };
      const final = response.status >= 300 && response.status < 500 && response.status !== 408 && response.status !== 429;
      return { ok: false, reason: `http_${response.status}`, final };
    } catch {
      if (this.engine.signal.aborted) return { ok: false, reason: 'stopped', final: false };
      return { ok: false, reason: timeout.aborted ? 'timeout' : 'unreachable', final: false };
    }
  }
}
