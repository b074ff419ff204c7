import { base64url } from '../core/bytes.ts';
import type { Deps } from '../services/deps.ts';
import type { SsfOutboxRow, SsfStream, Store } from '../store/ports.ts';
import { clientPolicy } from '../oidc/clientPolicy.ts';

/**
 * The events Keybound transmits (docs/shared-signals.md), and the one function that owes them to
 * the streams that want them: `queueSecurityEvent`, called inside the transaction of the change
 * it reports (DESIGN.md "Changes are events"), so a SET exists only if the change committed and
 * is sent after it by any instance (ssf/dispatch.ts).
 */

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';

export const SSF_EVENTS = {
  /** CAEP 1.0 §3.1: a Keybound session ended (services/sessions.ts endSessions). */
  sessionRevoked: `${CAEP}session-revoked`,
  /** CAEP 1.0 §3.2: a claim Keybound puts in tokens changed (`name`, `email`; services/accountAdmin.ts). */
  tokenClaimsChange: `${CAEP}token-claims-change`,
  /** CAEP 1.0 §3.3: a passkey or a code factor was added or removed. */
  credentialChange: `${CAEP}credential-change`,
  /** CAEP 1.0 §3.4: the lowest level the account's sign-ins must reach changed with its role (services/roles.ts). */
  assuranceLevelChange: `${CAEP}assurance-level-change`,
  /** RISC 1.0 §2.3: suspended or offboarded. */
  accountDisabled: `${RISC}account-disabled`,
  /** RISC 1.0 §2.4: resumed. */
  accountEnabled: `${RISC}account-enabled`,
  /** RISC 1.0 §2.2: offboarded, for good. */
  accountPurged: `${RISC}account-purged`,
  /** RISC 1.0 §2.7: a passkey's signature counter went backwards (a clone; services/passkeys/authentication.ts). */
  credentialCompromise: `${RISC}credential-compromise`,
} as const;

/** SSF 1.0 §8.1.4.1: sent only when a receiver asks (ssf/streams.ts verify), whatever it requested. */
export const VERIFICATION_EVENT = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

export type SsfEventType = (typeof SSF_EVENTS)[keyof typeof SSF_EVENTS];
export const EVENTS_SUPPORTED: readonly string[] = Object.values(SSF_EVENTS);

/** SSF 1.0 §8.1.1 `events_delivered`: what the receiver asked for that Keybound sends (everything, when it asked for nothing). */
export function eventsDelivered(requested: readonly string[]): string[] {
  return requested.length === 0 ? [...EVENTS_SUPPORTED] : EVENTS_SUPPORTED.filter((e) => requested.includes(e));
}

/** CAEP 1.0 §2 `initiating_entity`. */
export type InitiatingEntity = 'admin' | 'user' | 'policy' | 'system';

/** CAEP 1.0 §3.3 `credential_type` of a passkey: `internal` transport means the platform's own authenticator. */
export function passkeyCredentialType(passkey: { readonly transports: readonly string[] }): string {
  return passkey.transports.includes('internal') ? 'fido2-platform' : 'fido2-roaming';
}

/**
 * CAEP 1.0 §3.3 `credential_type` of a code factor: `app` (TOTP) and `phone-sms` are CAEP's own;
 * an email code and a recovery-code set have none, so they are named as the spec allows ("any other
 * credential type supported mutually", documented in docs/shared-signals.md).
 */
export const CODE_CREDENTIAL_TYPE: Readonly<Record<string, string>> = { totp: 'app', sms_code: 'phone-sms', email_code: 'email', recovery_codes: 'recovery-codes' };

export interface QueuedEvent {
  readonly accountId: string;
  readonly type: SsfEventType;
  /**
   * The event's members, or a function giving them for one receiver from the scopes its client is
   * allowed (`null`: nothing for that receiver), for events that carry claims only some may see.
   */
  readonly event: Readonly<Record<string, unknown>> | ((scopes: readonly string[]) => Readonly<Record<string, unknown>> | null);
  readonly at: number;
  /** SSF 1.0 §4.1.9: shared by the SETs of one change; one is made when not given. */
  readonly txn?: string;
}

/** A `txn` for the SETs of one change. */
export function newTxn(deps: Deps): string {
  return base64url.encode(deps.random(16));
}

/**
 * Owes the event to every stream that wants it, inside the caller's transaction: streams not
 * disabled, that asked for this type (or for nothing), without subjects or with this account among
 * them (SSF 1.0 §8.1.3: a new stream gets every subject until it adds some). Returns how many.
 */
export async function queueSecurityEvent(deps: Deps, tx: Store, queued: QueuedEvent): Promise<number> {
  const streams = (await tx.ssfStreams.listForSubject(queued.accountId)).filter((s) => eventsDelivered(s.eventsRequested).includes(queued.type));
  if (streams.length === 0) return 0;
  const txn = queued.txn ?? newTxn(deps);
  const rows: SsfOutboxRow[] = [];
  for (const stream of streams) {
    const event = typeof queued.event === 'function' ? queued.event(await clientScopes(tx, stream)) : queued.event;
    if (event === null) continue;
    rows.push(outboxRow(deps, stream, queued.type, { accountId: queued.accountId, event: { ...event, event_timestamp: Math.floor(queued.at / 1000) } }, txn, queued.at));
  }
  await tx.ssfOutbox.enqueue(rows);
  return rows.length;
}

export function outboxRow(deps: Deps, stream: SsfStream, type: string, payload: SsfOutboxRow['payload'], txn: string, at: number): SsfOutboxRow {
  return { id: base64url.encode(deps.random(16)), streamId: stream.id, eventType: type, payload, txn, attempts: 0, createdAt: at, nextAttemptAt: at };
}

async function clientScopes(tx: Store, stream: SsfStream): Promise<readonly string[]> {
  const client = await tx.oidcClients.find(stream.clientId);
  return client ? clientPolicy(client.metadata).scopes : [];
}

/** CAEP 1.0 §3.3, for a passkey added, removed or revoked. */
export function passkeyChanged(
  deps: Deps,
  tx: Store,
  input: { accountId: string; passkey: { readonly transports: readonly string[]; readonly aaguid: string }; change: 'create' | 'delete' | 'revoke'; by: InitiatingEntity; at: number },
): Promise<number> {
  const aaguid = input.passkey.aaguid && input.passkey.aaguid !== '00000000-0000-0000-0000-000000000000' ? { fido2_aaguid: input.passkey.aaguid } : {};
  return queueSecurityEvent(deps, tx, {
    accountId: input.accountId,
    type: SSF_EVENTS.credentialChange,
    event: { credential_type: passkeyCredentialType(input.passkey), change_type: input.change, ...aaguid, initiating_entity: input.by },
    at: input.at,
  });
}

/** CAEP 1.0 §3.3, for a code factor (TOTP, SMS, email, recovery codes) bound or removed. */
export function codeFactorChanged(deps: Deps, tx: Store, input: { accountId: string; kind: string; change: 'create' | 'delete'; by: InitiatingEntity; at: number }): Promise<number> {
  return queueSecurityEvent(deps, tx, {
    accountId: input.accountId,
    type: SSF_EVENTS.credentialChange,
    event: { credential_type: CODE_CREDENTIAL_TYPE[input.kind] ?? input.kind, change_type: input.change, initiating_entity: input.by },
    at: input.at,
  });
}
