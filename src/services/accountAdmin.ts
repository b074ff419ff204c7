import { fail, ok, type Result } from '../core/errors.ts';
import { queueSecurityEvent, SSF_EVENTS } from '../ssf/events.ts';
import type { Account, CodeAuthenticator, RequestContext, Session } from '../core/model.ts';
import { hashSecret } from '../core/tokens.ts';
import { actorName, authorize, type Actor } from './adminAccess.ts';
import { notifyHolder } from './codes/notify.ts';
import { viewOf } from './approvals.ts';
import type { Deps } from './deps.ts';
import { atomically, type AfterCommit } from './atomically.ts';
import type { Store } from '../store/index.ts';
import { MAX_DISPLAY_NAME, MAX_EMAIL } from './invitations.ts';
import { lockedAccount, normaliseUsername } from './lifecycle.ts';
import { summarisePasskey, type PasskeySummary } from './passkeys/management.ts';
import { isoTime, isoTimeOrNull } from '../core/time.ts';

/**
 * What an administrator sees of accounts (issue 12, "Account administration"): `accounts show` and
 * `accounts list`, `GET /api/v1/admin/accounts[/{username}]`, and the one change to an account's
 * details (email, display name). Never a secret: no token, key, seed or code, and phone numbers and
 * addresses of code factors are masked.
 */

export interface AccountSummary {
  readonly id: string;
  readonly username: string;
  readonly displayName: string;
  readonly email: string | null;
  readonly role: Account['role'];
  readonly status: Account['status'];
  readonly createdAt: string;
  readonly lastSignInAt: string | null;
  /** Active passkeys (how many device-bound) and code factors by kind: the list's factor column. */
  readonly factors: { readonly passkeys: number; readonly deviceBoundPasskeys: number; readonly codeFactors: readonly string[] };
}

export interface CodeFactorView {
  readonly id: string;
  readonly kind: CodeAuthenticator['kind'];
  readonly status: CodeAuthenticator['status'];
  readonly destination: string | null;
  readonly disabledReason: string | null;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly recoveryCodesLeft?: number;
}

export interface AccountDetails extends AccountSummary {
  readonly passkeys: readonly PasskeySummary[];
  readonly codeFactors: readonly CodeFactorView[];
  readonly sessions: readonly ReturnType<typeof sessionView>[];
  readonly grants: readonly { readonly clientId: string | null; readonly offline: boolean; readonly createdAt: string; readonly sessions: number }[];
  readonly pendingLinks: readonly { readonly createdBy: string | null; readonly createdAt: string; readonly expiresAt: string }[];
  /** Assisted recoveries and role approvals not yet done (migration 014). */
  readonly pendingApprovals: readonly { readonly id: string; readonly kind: string; readonly state: string; readonly requestedBy: string; readonly releaseAt: string | null }[];
}

/** `+44 7700 900123` → `+44•••••••23`; `rita@example.test` → `r•••@example.test`. */
export function maskDestination(destination: string | null): string | null {
  if (destination === null) return null;
  const at = destination.indexOf('@');
  if (at > 0) return `${destination[0]}•••${destination.slice(at)}`;
  return destination.length <= 5 ? '•••' : `${destination.slice(0, 3)}${'•'.repeat(destination.length - 5)}${destination.slice(-2)}`;
}

function sessionView(s: Session) {
  return {
    id: s.id,
    aal: s.aal,
    acr: s.acr,
    amr: s.amr,
    passkey: s.passkeyId,
    createdAt: isoTime(s.createdAt),
    lastSeenAt: isoTime(s.lastSeenAt),
    expiresAt: isoTime(Math.min(s.expiresAt, s.idleExpiresAt)),
    ip: s.ip,
    userAgent: s.userAgent,
  };
}

async function summarise(deps: Deps, account: Account): Promise<AccountSummary> {
  const passkeys = (await deps.store.passkeys.listByAccount(account.id)).filter((p) => p.status === 'active');
  const codes = (await deps.store.authenticators.listBound(account.id)).filter((a) => a.status === 'active');
  return {
    id: account.id,
    username: account.username,
    displayName: account.displayName,
    email: account.email,
    role: account.role,
    status: account.status,
    createdAt: isoTime(account.createdAt),
    lastSignInAt: isoTimeOrNull(account.lastSignInAt),
    factors: { passkeys: passkeys.length, deviceBoundPasskeys: passkeys.filter((p) => !p.backupEligible).length, codeFactors: codes.map((c) => c.kind) },
  };
}

/** Every account (or those whose username, display name or email contains `query`), with status, last sign-in and factors. */
export async function listAccounts(deps: Deps, input: { actor: Actor; query?: string | undefined; limit?: number }): Promise<Result<AccountSummary[]>> {
  const allowed = await authorize(deps, input.actor, { fresh: false });
  if (!allowed.ok) return allowed;
  const query = input.query?.trim() ?? '';
  const accounts = query ? await deps.store.accounts.search(query, input.limit ?? 200) : await deps.store.accounts.list();
  const rows: AccountSummary[] = [];
  for (const account of accounts.slice(0, input.limit ?? accounts.length)) rows.push(await summarise(deps, account));
  return ok(rows);
}

/** One account in full: factors with kind, authenticator model, status and last use; live sessions; grants; pending links. */
export async function showAccount(deps: Deps, input: { actor: Actor; username: string }): Promise<Result<AccountDetails>> {
  const allowed = await authorize(deps, input.actor, { fresh: false });
  if (!allowed.ok) return allowed;
  const username = normaliseUsername(input.username);
  const account = await deps.store.accounts.findByUsername(username);
  if (!account) return fail('account_not_found', { message: `No account ${username}.` });
  const now = deps.clock();
  const codeFactors: CodeFactorView[] = [];
  for (const a of await deps.store.authenticators.listBound(account.id)) {
    codeFactors.push({
      id: a.id,
      kind: a.kind,
      status: a.status,
      destination: maskDestination(a.destination),
      disabledReason: a.disabledReason,
      createdAt: isoTime(a.createdAt),
      lastUsedAt: isoTimeOrNull(a.lastUsedAt),
      ...(a.kind === 'recovery_codes' ? { recoveryCodesLeft: await deps.store.recoveryCodes.countUnused(a.id) } : {}),
    });
  }
  const bindings = await deps.store.oidcGrantSessions.findByAccount(account.id);
  const grants = new Map<string, { clientId: string | null; offline: boolean; createdAt: number; sessions: number }>();
  for (const b of bindings) {
    const known = grants.get(b.grantId);
    if (known) {
      grants.set(b.grantId, { ...known, offline: known.offline || b.offline, createdAt: Math.min(known.createdAt, b.createdAt), sessions: known.sessions + 1 });
      continue;
    }
    const stored = await deps.store.oidcPayloads.find('Grant', hashSecret(b.grantId), now);
    grants.set(b.grantId, { clientId: stored ? clientIdOf(stored.payload) : null, offline: b.offline, createdAt: b.createdAt, sessions: 1 });
  }
  return ok({
    ...(await summarise(deps, account)),
    passkeys: (await deps.store.passkeys.listByAccount(account.id)).map(summarisePasskey),
    codeFactors,
    sessions: (await deps.store.sessions.listActive(account.id, now)).map(sessionView),
    grants: [...grants.values()].map((g) => ({ ...g, createdAt: isoTime(g.createdAt) })),
    pendingLinks: (await deps.store.invitations.listUsable(account.id, now)).map((i) => ({ createdBy: i.createdBy, createdAt: isoTime(i.createdAt), expiresAt: isoTime(i.expiresAt) })),
    pendingApprovals: (await deps.store.approvals.list({ accountId: account.id, states: ['awaiting_approval', 'approved'], limit: 20 })).map((a) => ({ id: a.id, kind: a.kind, state: viewOf(a, now), requestedBy: a.requestedBy, releaseAt: isoTimeOrNull(a.releaseAt) })),
  });
}

function clientIdOf(payload: string): string | null {
  try {
    const parsed = JSON.parse(payload) as { clientId?: unknown };
    return typeof parsed.clientId === 'string' ? parsed.clientId : null;
  } catch {
    return null;
  }
}

/** RFC 5321 sizes, and the shape of an address (one @, something either side, no spaces). */
const EMAIL = /^[^\s@]+@[^\s@]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface AccountChanges {
  /** A new address, or `null` to remove it. */
  readonly email?: string | null;
  readonly displayName?: string;
}

/** Changes an account's email address or display name: validated, audited with old and new values, and told to the holder (at the old address too). */
export async function updateAccount(deps: Deps, input: { actor: Actor; username: string; changes: AccountChanges; context: RequestContext }): Promise<Result<Account>> {
  const allowed = await authorize(deps, input.actor, { fresh: true });
  if (!allowed.ok) return allowed;
  return atomically(deps, (tx, after) => updateAccountIn(deps, tx, after, input));
}

/**
 * `updateAccount` as a step of a larger change, in the caller's transaction (services/atomically.ts),
 * its notices deferred to `after`. The caller has admitted the actor (`authorize`).
 */
export async function updateAccountIn(deps: Deps, tx: Store, after: AfterCommit, input: { actor: Actor; username: string; changes: AccountChanges; context: RequestContext }): Promise<Result<Account>> {
  const email = input.changes.email === undefined ? undefined : input.changes.email === null || input.changes.email.trim() === '' ? null : input.changes.email.trim();
  const displayName = input.changes.displayName?.trim();
  if (email === undefined && displayName === undefined) return fail('invalid_request', { message: 'Give an email address, a display name, or both.' });
  if (email != null && (email.length > MAX_EMAIL || !EMAIL.test(email))) return fail('invalid_request', { message: `An email address is one address of at most ${MAX_EMAIL} characters, like name@example.com.` });
  if (displayName !== undefined && (displayName.length === 0 || displayName.length > MAX_DISPLAY_NAME || CONTROL.test(displayName))) {
    return fail('invalid_request', { message: `A display name is 1-${MAX_DISPLAY_NAME} characters of one line.` });
  }
  const by = actorName(input.actor);
  const at = deps.clock();
  const found = await lockedAccount(tx, input.username);
  if (!found.ok) return found;
  const before = found.value;
  if (before.status === 'offboarded') return fail('account_status_conflict', { message: `Account ${before.username} is offboarded; its details no longer change.` });
  const changes: Record<string, { from: string | null; to: string | null }> = {};
  if (email !== undefined && email !== before.email) changes.email = { from: before.email, to: email };
  if (displayName !== undefined && displayName !== before.displayName) changes.displayName = { from: before.displayName, to: displayName };
  const fields = Object.keys(changes);
  if (fields.length === 0) return ok(before);
  await tx.accounts.update(before.id, { ...(changes.email ? { email } : {}), ...(changes.displayName ? { displayName: displayName! } : {}) }, at);
  // CAEP 1.0 §3.2: `name` and `email` are claims of Keybound's ID tokens and userinfo (oidc/account.ts);
  // each receiver is told only the claims its client may have (`profile`, `email` scopes).
  await queueSecurityEvent(deps, tx, {
    accountId: before.id,
    type: SSF_EVENTS.tokenClaimsChange,
    event: (scopes) => {
      const claims = { ...(changes.email && scopes.includes('email') ? { email } : {}), ...(changes.displayName && scopes.includes('profile') ? { name: displayName } : {}) };
      return Object.keys(claims).length > 0 ? { claims, initiating_entity: 'admin' } : null;
    },
    at,
  });
  await tx.audit.append({ type: 'account.updated', outcome: 'success', accountId: before.id, context: input.context, at, details: { by, username: before.username, changes } });
  const updated = { ...before, ...(changes.email ? { email: email! } : {}), ...(changes.displayName ? { displayName: displayName! } : {}) };
  const names = fields.map((f) => (f === 'displayName' ? 'display name' : 'email address'));
  after(async () => {
    await notifyHolder(deps, before, { kind: 'account_updated', fields: names }, input.context);
    if (updated.email && updated.email !== before.email) await notifyHolder(deps, updated, { kind: 'account_updated', fields: names }, input.context);
  });
  return ok(updated);
}
