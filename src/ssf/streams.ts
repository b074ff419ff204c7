import { base64url } from '../core/bytes.ts';
import { fail, ok, type Result } from '../core/errors.ts';
import type { Deps } from '../services/deps.ts';
import type { SsfStream, SsfStreamStatus } from '../store/ports.ts';
import { EVENTS_SUPPORTED, eventsDelivered, newTxn, outboxRow, VERIFICATION_EVENT } from './events.ts';
import { isObject } from '../core/json.ts';

/**
 * Stream management (OpenID Shared Signals Framework 1.0 §8): each OpenID client allowed the `ssf`
 * scope manages its own streams (ssf/auth.ts names the client); another client's stream is not
 * found. Push delivery only (RFC 8935, §6.1.1).
 */
export const PUSH_METHOD = 'urn:ietf:rfc:8935';
export const MAX_STREAMS_PER_CLIENT = 10;
const MAX_DESCRIPTION = 500;
const MAX_EVENTS_REQUESTED = 50;
const MAX_URL = 2_000;
const MAX_REASON = 200;
const STATUSES: readonly SsfStreamStatus[] = ['enabled', 'paused', 'disabled'];

const invalid = (message: string) => fail('ssf_stream_invalid', { message });
/** Verification SETs are refused while this many SETs wait for the stream (§8.1.4.2 allows 429). */
export const MAX_PENDING_FOR_VERIFICATION = 100;

/**
 * The receiver's authorization header is a credential for its endpoint: sealed at rest under the
 * data keys (DESIGN.md principle 3), bound to its stream, opened only to send (ssf/dispatch.ts).
 */
const authContext = (streamId: string) => `ssf-stream-authorization:${streamId}`;
export function openAuthorization(deps: Deps, stream: SsfStream): string | null {
  return stream.authorizationHeader === null ? null : new TextDecoder().decode(deps.dataKeys.open(stream.authorizationHeader, authContext(stream.id)));
}
function sealAuthorization(deps: Deps, streamId: string, header: string | null | undefined): string | null | undefined {
  return typeof header === 'string' ? deps.dataKeys.seal(new TextEncoder().encode(header), authContext(streamId)) : header;
}

/**
 * SSF 1.0 §6.1.1 `endpoint_url`: SETs travel to it, so `https://`, but for a receiver on this machine
 * (loopback, as with redirect URIs, RFC 8252 §8.3) over plain HTTP, for development and tests.
 */
export function checkEndpoint(raw: unknown): Result<string> {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_URL) return fail('ssf_endpoint_not_https');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('ssf_endpoint_not_https');
  }
  if (raw.includes('#') || url.username || url.password) return fail('ssf_endpoint_not_https');
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(url.hostname);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) return ok(url.href);
  return fail('ssf_endpoint_not_https');
}

interface ReceiverSupplied {
  readonly endpointUrl: string;
  readonly authorizationHeader: string | null;
  readonly eventsRequested: readonly string[];
  readonly description: string | null;
}

/** Reads the receiver-supplied members (§8.1.1); `partial` (PATCH) leaves absent ones out. */
function receiverSupplied(body: Record<string, unknown>, partial: boolean): Result<Partial<ReceiverSupplied>> {
  const out: { -readonly [K in keyof ReceiverSupplied]?: ReceiverSupplied[K] } = {};
  if (body.delivery !== undefined || !partial) {
    // §8.1.1.1: no `delivery` means poll, which Keybound does not offer.
    if (!isObject(body.delivery) || body.delivery.method !== PUSH_METHOD) return fail('ssf_delivery_unsupported');
    const endpoint = checkEndpoint(body.delivery.endpoint_url);
    if (!endpoint.ok) return endpoint;
    out.endpointUrl = endpoint.value;
    const auth = body.delivery.authorization_header;
    if (auth !== undefined && auth !== null && (typeof auth !== 'string' || auth.length > 4_000 || /[\r\n]/.test(auth))) return invalid('delivery.authorization_header is one line of at most 4000 characters.');
    out.authorizationHeader = typeof auth === 'string' ? auth : null;
  }
  if (body.events_requested !== undefined || !partial) {
    const requested = body.events_requested ?? [];
    if (!Array.isArray(requested) || requested.length > MAX_EVENTS_REQUESTED || !requested.every((e) => typeof e === 'string' && e.length <= 300)) {
      return invalid(`events_requested is an array of at most ${MAX_EVENTS_REQUESTED} event type URIs.`);
    }
    out.eventsRequested = [...new Set(requested as string[])];
  }
  if (body.description !== undefined || !partial) {
    const d = body.description ?? null;
    if (d !== null && (typeof d !== 'string' || d.length > MAX_DESCRIPTION)) return invalid(`description is a string of at most ${MAX_DESCRIPTION} characters.`);
    out.description = d as string | null;
  }
  return ok(out);
}

/** Transmitter-supplied members may be sent back, but only as they are (§8.1.1.3: otherwise 400). */
function checkTransmitterSupplied(deps: Deps, body: Record<string, unknown>, stream: SsfStream): Result<null> {
  if (body.iss !== undefined && body.iss !== deps.config.oidc.issuer) return invalid('iss is the issuer and cannot change.');
  if (body.aud !== undefined && body.aud !== stream.clientId && !(Array.isArray(body.aud) && body.aud.length === 1 && body.aud[0] === stream.clientId)) return invalid('aud is the client id and cannot change.');
  return ok(null);
}

/** The stream's configuration as §8.1.1 describes it; the authorization header is not read back. */
export function describeStream(deps: Deps, s: SsfStream): Record<string, unknown> {
  return {
    stream_id: s.id,
    iss: deps.config.oidc.issuer,
    aud: s.clientId,
    delivery: { method: PUSH_METHOD, endpoint_url: s.endpointUrl },
    events_supported: [...EVENTS_SUPPORTED],
    events_requested: [...s.eventsRequested],
    events_delivered: eventsDelivered(s.eventsRequested),
    ...(s.description !== null ? { description: s.description } : {}),
  };
}

export async function createStream(deps: Deps, clientId: string, body: unknown): Promise<Result<SsfStream>> {
  if (!isObject(body)) return invalid('The body is a JSON object.');
  const supplied = receiverSupplied(body, false);
  if (!supplied.ok) return supplied;
  const now = deps.clock();
  const s = supplied.value as ReceiverSupplied;
  const id = base64url.encode(deps.random(16));
  const stream: SsfStream = {
    id,
    clientId,
    endpointUrl: s.endpointUrl,
    authorizationHeader: sealAuthorization(deps, id, s.authorizationHeader) ?? null,
    eventsRequested: s.eventsRequested,
    description: s.description,
    status: 'enabled',
    statusReason: null,
    delivered: 0,
    failed: 0,
    lastDeliveredAt: null,
    lastFailure: null,
    lastFailureAt: null,
    createdAt: now,
    updatedAt: now,
  };
  const created = await deps.store.transaction(async (tx) => {
    if ((await tx.ssfStreams.listByClient(clientId)).length >= MAX_STREAMS_PER_CLIENT) return false;
    await tx.ssfStreams.create(stream);
    await tx.audit.append({ type: 'ssf.stream.created', outcome: 'success', at: now, details: { clientId, stream: stream.id, endpoint: new URL(stream.endpointUrl).origin, eventsDelivered: eventsDelivered(stream.eventsRequested).length } });
    return true;
  });
  return created ? ok(stream) : fail('ssf_stream_limit');
}

export async function findStream(deps: Deps, clientId: string, streamId: unknown): Promise<Result<SsfStream>> {
  if (typeof streamId !== 'string' || streamId.length === 0) return invalid('stream_id is required.');
  const stream = await deps.store.ssfStreams.find(clientId, streamId);
  return stream ? ok(stream) : fail('ssf_stream_not_found');
}

/** PATCH (§8.1.1.3) changes the members given; PUT (§8.1.1.4) replaces every receiver-supplied member. */
export async function updateStream(deps: Deps, clientId: string, body: unknown, mode: 'patch' | 'replace'): Promise<Result<SsfStream>> {
  if (!isObject(body)) return invalid('The body is a JSON object.');
  const found = await findStream(deps, clientId, body.stream_id);
  if (!found.ok) return found;
  const fixed = checkTransmitterSupplied(deps, body, found.value);
  if (!fixed.ok) return fixed;
  const supplied = receiverSupplied(body, mode === 'patch');
  if (!supplied.ok) return supplied;
  const now = deps.clock();
  const changes = { ...supplied.value, ...('authorizationHeader' in supplied.value ? { authorizationHeader: sealAuthorization(deps, found.value.id, supplied.value.authorizationHeader) } : {}) };
  if (!(await deps.store.ssfStreams.update(clientId, found.value.id, changes, now))) return fail('ssf_stream_not_found');
  await deps.store.audit.append({ type: 'ssf.stream.updated', outcome: 'success', at: now, details: { clientId, stream: found.value.id, fields: Object.keys(supplied.value) } });
  return ok((await deps.store.ssfStreams.find(clientId, found.value.id)) ?? found.value);
}

export async function deleteStream(deps: Deps, clientId: string, streamId: unknown): Promise<Result<null>> {
  const found = await findStream(deps, clientId, streamId);
  if (!found.ok) return found;
  const now = deps.clock();
  const deleted = await deps.store.transaction(async (tx) => {
    if (!(await tx.ssfStreams.delete(clientId, found.value.id))) return false;
    await tx.audit.append({ type: 'ssf.stream.deleted', outcome: 'success', at: now, details: { clientId, stream: found.value.id } });
    return true;
  });
  return deleted ? ok(null) : fail('ssf_stream_not_found');
}

/** §8.1.2.1, with Keybound's delivery state of the stream beside it (`keybound_delivery`). */
export async function streamStatus(deps: Deps, stream: SsfStream): Promise<Record<string, unknown>> {
  return {
    stream_id: stream.id,
    status: stream.status,
    ...(stream.statusReason !== null ? { reason: stream.statusReason } : {}),
    keybound_delivery: {
      pending: await deps.store.ssfStreams.pending(stream.id),
      delivered: stream.delivered,
      failed: stream.failed,
      last_delivered_at: stream.lastDeliveredAt === null ? null : Math.floor(stream.lastDeliveredAt / 1000),
      last_failure: stream.lastFailure,
      last_failure_at: stream.lastFailureAt === null ? null : Math.floor(stream.lastFailureAt / 1000),
    },
  };
}

/**
 * §8.1.2.2. `paused`: SETs are kept and sent, in order, once enabled again; `disabled`: none is kept
 * (§8.1.2.1), so the SETs still owed are dropped with the change.
 */
export async function setStreamStatus(deps: Deps, clientId: string, body: unknown): Promise<Result<SsfStream>> {
  if (!isObject(body)) return invalid('The body is a JSON object.');
  const found = await findStream(deps, clientId, body.stream_id);
  if (!found.ok) return found;
  const status = body.status;
  if (typeof status !== 'string' || !STATUSES.includes(status as SsfStreamStatus)) return invalid('status is enabled, paused or disabled.');
  const reason = body.reason ?? null;
  if (reason !== null && (typeof reason !== 'string' || reason.length > MAX_REASON)) return invalid(`reason is a string of at most ${MAX_REASON} characters.`);
  const now = deps.clock();
  await deps.store.transaction(async (tx) => {
    await tx.ssfStreams.update(clientId, found.value.id, { status: status as SsfStreamStatus, statusReason: reason as string | null }, now);
    if (status === 'disabled') await tx.ssfOutbox.dropStream(found.value.id);
    await tx.audit.append({ type: 'ssf.stream.status', outcome: 'success', at: now, details: { clientId, stream: found.value.id, from: found.value.status, to: status } });
  });
  return ok((await deps.store.ssfStreams.find(clientId, found.value.id)) ?? found.value);
}

/** §8.1.3: a subject is `iss_sub` with this issuer and an account id (Keybound's `sub`). */
function subjectOf(deps: Deps, body: Record<string, unknown>): Result<string> {
  const s = body.subject;
  if (!isObject(s) || s.format !== 'iss_sub' || s.iss !== deps.config.oidc.issuer || typeof s.sub !== 'string' || s.sub.length === 0 || s.sub.length > 200) return fail('ssf_subject_unsupported');
  return ok(s.sub);
}

/**
 * §8.1.3.2 / §8.1.3.3. A subject is recorded whether or not such an account exists, and the answer
 * is the same either way (§9.1, subject probing: the receiver learns nothing about who has an account).
 */
export async function changeSubject(deps: Deps, clientId: string, body: unknown, change: 'add' | 'remove'): Promise<Result<null>> {
  if (!isObject(body)) return invalid('The body is a JSON object.');
  const found = await findStream(deps, clientId, body.stream_id);
  if (!found.ok) return found;
  const sub = subjectOf(deps, body);
  if (!sub.ok) return sub;
  if (change === 'add') await deps.store.ssfStreams.addSubject(found.value.id, sub.value, deps.clock());
  else await deps.store.ssfStreams.removeSubject(found.value.id, sub.value);
  return ok(null);
}

/** §8.1.4.2: owes the stream a verification SET carrying the receiver's `state`; sent like any other. */
export async function requestVerification(deps: Deps, clientId: string, body: unknown): Promise<Result<null>> {
  if (!isObject(body)) return invalid('The body is a JSON object.');
  const found = await findStream(deps, clientId, body.stream_id);
  if (!found.ok) return found;
  const state = body.state;
  if (state !== undefined && (typeof state !== 'string' || state.length > 500)) return invalid('state is a string of at most 500 characters.');
  if ((await deps.store.ssfStreams.pending(found.value.id)) >= MAX_PENDING_FOR_VERIFICATION) {
    return fail('rate_limited', { message: `This stream has ${MAX_PENDING_FOR_VERIFICATION} or more SETs waiting; ask for a verification once they are delivered (see its status).`, retryAfter: 60 });
  }
  const now = deps.clock();
  await deps.store.ssfOutbox.enqueue([outboxRow(deps, found.value, VERIFICATION_EVENT, { accountId: null, event: state !== undefined ? { state } : {} }, newTxn(deps), now)]);
  return ok(null);
}
