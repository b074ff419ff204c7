import { fail, ok, type Result } from '../core/errors.ts';
import { newTxn, queueSecurityEvent, SSF_EVENTS, type SsfEventType } from '../ssf/events.ts';
import type { Account, AccountStatus, RequestContext } from '../core/model.ts';
import type { Store } from '../store/index.ts';
import { actorAccountId, actorName, authorize, type Actor } from './adminAccess.ts';
import { notifyHolder, type AccountNotice } from './codes/notify.ts';
import { boundChannels } from './devices/announce.ts';
import type { Deps } from './deps.ts';
import { atomically, type AfterCommit } from './atomically.ts';
import { endAccountGrants } from './grants.ts';
import { endSessions, type AdminSessionEndReason } from './sessions.ts';
import { cascadeToMachines } from './nhi/cascade.ts';

/**
 * Account lifecycle (issue 12, "Account administration"; DESIGN.md "Lifecycle changes are governed
 * paths too", principle 6 "Revocation is immediate"). Suspend, resume and offboard, and ending an
 * account's (or everyone's) sessions and grants (OWASP ASVS 5.0 7.4.5). One service for the CLI and
 * the admin API; each checks its actor itself (adminAccess.ts).
 *
 * Every change runs in one transaction that first takes the account row, as every sign-in does
 * (signIn.ts `recordSignIn`), so a sign-in racing a suspension either committed first (and its
 * session is ended here) or finds the account no longer active. Every instance reads the same rows,
 * so the change holds everywhere once the transaction commits.
 */

/** What a lifecycle change revoked, with counts. */
export interface Revoked {
  readonly sessions: number;
  /** OpenID grants, each with its refresh tokens, opaque access tokens and codes. */
  readonly grants: number;
  readonly passkeys: number;
  readonly codeFactors: number;
  readonly invitations: number;
  /** Code sign-ins (one-time and recovery codes) started and not finished: their codes stop counting. */
  readonly pendingCodeSignIns: number;
  /** Assisted recoveries and role approvals awaiting approval or release, cancelled (migration 014). */
  readonly pendingApprovals: number;
  /** Workloads the account owned, disabled (or moved to `machinesTransferredTo`) because it was suspended or offboarded. */
  readonly workloads: number;
  /** API keys the account owned, revoked (or moved to `machinesTransferredTo`). */
  readonly apiKeys: number;
  /** Delegations the account gave agents, revoked (nhi/delegations.ts; never transferred). */
  readonly delegations: number;
  /** KEYBOUND_NHI_ON_OWNER_OFFBOARD=transfer:<username>: who got them; `null` when they were disabled (or there were none). */
  readonly machinesTransferredTo: string | null;
}

export interface LifecycleChange {
  readonly account: Account;
  readonly from: AccountStatus;
  readonly revoked: Revoked;
  /**
   * Until when tokens already issued that no server can recall stay valid (epoch ms): JWT access
   * tokens (KEYBOUND_OIDC_ACCESS_TOKEN_TTL, or the longest lifetime of the workloads the change
   * disabled) and ID tokens (KEYBOUND_OIDC_ID_TOKEN_TTL). Resource
   * servers that verify JWTs locally accept them until then.
   */
  readonly selfContained: { readonly accessTokensValidUntil: number; readonly idTokensValidUntil: number };
}

/** A change as the CLI's `--json` and the admin API answer it. */
export function describeChange(change: LifecycleChange) {
  const { account, from, revoked, selfContained } = change;
  return {
    account: { id: account.id, username: account.username, status: account.status, role: account.role },
    from,
    revoked,
    selfContainedTokens: { accessTokensValidUntil: new Date(selfContained.accessTokensValidUntil).toISOString(), idTokensValidUntil: new Date(selfContained.idTokensValidUntil).toISOString() },
  };
}

const NOTHING: Revoked = { sessions: 0, grants: 0, passkeys: 0, codeFactors: 0, invitations: 0, pendingCodeSignIns: 0, pendingApprovals: 0, workloads: 0, apiKeys: 0, delegations: 0, machinesTransferredTo: null };

/**
 * The one cascade every lifecycle change runs, inside its transaction. `access`: every live session
 * and every OpenID grant (offline_access ones too) with their tokens and provider sessions.
 * `passkeys` (an assisted recovery with revokeExisting, redeemed: recovery/assisted.ts) adds every
 * passkey the account had, disabled, before the recovered one is bound. `everything` (offboarding)
 * adds the authenticators and ways back in: passkeys and code factors disabled, enrolment links,
 * pending code sign-ins and pending approvals ended. When the account is suspended or offboarded
 * (not when an administrator only ends its sessions), the workloads and API keys it owns are
 * disabled or handed over in the same transaction (nhi/cascade.ts), so no caller can forget them.
 */
export async function revokeAccountAccess(
  deps: Deps,
  tx: Store,
  account: Account,
  input: { scope: 'access' | 'passkeys' | 'everything'; reason: AdminSessionEndReason; by: string; context: RequestContext; at: number },
): Promise<Revoked> {
  // Every usable grant is bound to the account (grants.ts `grantAlive` refuses an unbound one):
  // counted before the session endings below end some of them.
  const grants = new Set((await tx.oidcGrantSessions.findByAccount(account.id)).map((b) => b.grantId)).size;
  const live = await tx.sessions.listActive(account.id, input.at);
  const sessions = await endSessions(deps, tx, { accountId: account.id, sessionIds: live.map((s) => s.id), reason: input.reason, by: input.by, context: input.context, at: input.at });
  // Then every grant left (offline_access ones outlive sessions) and every provider row naming the account.
  await endAccountGrants(tx, account.id);
  let revoked: Revoked = { ...NOTHING, sessions: sessions.length, grants };
  if (input.reason === 'suspended' || input.reason === 'offboarded') {
    const machines = await cascadeToMachines(deps, tx, account, { reason: input.reason, by: input.by, at: input.at });
    revoked = { ...revoked, workloads: machines.workloads, apiKeys: machines.apiKeys, delegations: machines.delegations, machinesTransferredTo: machines.transferredTo };
  }
  if (input.scope === 'access') return revoked;
  if (input.scope === 'passkeys') return { ...revoked, passkeys: await tx.passkeys.disableForAccount(account.id, input.reason) };
  return {
    ...revoked,
    passkeys: await tx.passkeys.disableForAccount(account.id, 'offboarded'),
    codeFactors: await tx.authenticators.disableForAccount(account.id, 'offboarded'),
    invitations: await tx.invitations.revokeForAccount(account.id, input.at),
    pendingCodeSignIns: await tx.codeAttempts.expireForAccount(account.id, input.at),
    pendingApprovals: await tx.approvals.cancelForAccount(account.id, { by: input.by, at: input.at }),
  };
}

/** A reason for the audit trail and the notice: optional, one line, bounded. */
export const MAX_REASON = 500;

export function checkReason(reason: string | null | undefined): Result<string | null> {
  const trimmed = reason?.trim() ?? '';
  if (trimmed.length > MAX_REASON) return fail('invalid_request', { message: `A reason is at most ${MAX_REASON} characters.` });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return fail('invalid_request', { message: 'A reason is one line of text, without control characters.' });
  return ok(trimmed === '' ? null : trimmed);
}

export function normaliseUsername(username: string): string {
  return username.trim().toLowerCase();
}

/** The account by username, its row taken for the rest of the transaction. */
export async function lockedAccount(tx: Store, username: string): Promise<Result<Account>> {
  const name = normaliseUsername(username);
  const found = await tx.accounts.findByUsername(name);
  if (!found) return fail('account_not_found', { message: `No account ${name}.` });
  await tx.accounts.lock(found.id);
  return ok((await tx.accounts.findById(found.id)) ?? found);
}

interface ChangeInput {
  readonly username: string;
  readonly actor: Actor;
  readonly context: RequestContext;
  readonly reason?: string | null;
}

interface Transition {
  readonly event: 'account.suspended' | 'account.resumed' | 'account.offboarded';
  /** States the change applies to, and the message when the account is in another. */
  readonly from: readonly AccountStatus[];
  readonly to: (tx: Store, account: Account) => Promise<AccountStatus>;
  readonly cascade: { scope: 'access' | 'everything'; reason: AdminSessionEndReason } | null;
  readonly notice: (reason: string | null) => AccountNotice;
  /** RISC 1.0 events the change owes Shared Signals streams (ssf/events.ts), one `txn` for them all. */
  readonly signals: readonly SsfEventType[];
}

const SUSPEND: Transition = {
  event: 'account.suspended',
  from: ['active', 'invited'],
  to: async () => 'suspended',
  cascade: { scope: 'access', reason: 'suspended' },
  notice: (reason) => ({ kind: 'account_suspended', reason }),
  signals: [SSF_EVENTS.accountDisabled],
};

const RESUME: Transition = {
  event: 'account.resumed',
  from: ['suspended'],
  // Back to what it was: active if it has a passkey to sign in with, else still waiting to enrol.
  to: async (tx, account) => ((await tx.passkeys.countActive(account.id)) > 0 ? 'active' : 'invited'),
  cascade: null,
  notice: () => ({ kind: 'account_resumed' }),
  signals: [SSF_EVENTS.accountEnabled],
};

const OFFBOARD: Transition = {
  event: 'account.offboarded',
  from: ['active', 'invited', 'suspended'],
  to: async () => 'offboarded',
  cascade: { scope: 'everything', reason: 'offboarded' },
  notice: () => ({ kind: 'account_offboarded' }),
  // Offboarding is for good (no command brings the account back): disabled, and purged (RISC §2.2).
  signals: [SSF_EVENTS.accountDisabled, SSF_EVENTS.accountPurged],
};

const WHY_NOT: Record<Transition['event'], (account: Account) => string> = {
  'account.suspended': (a) => `Account ${a.username} is ${a.status}; only an active or invited account can be suspended.`,
  'account.resumed': (a) => `Account ${a.username} is ${a.status}; only a suspended account can be resumed.`,
  'account.offboarded': (a) => `Account ${a.username} is already offboarded; offboarding is for good.`,
};

async function transition(deps: Deps, t: Transition, input: ChangeInput): Promise<Result<LifecycleChange>> {
  const allowed = await authorize(deps, input.actor, { fresh: true });
  if (!allowed.ok) return allowed;
  return atomically(deps, (tx, after) => transitionIn(deps, tx, after, t, input));
}

/** A transition in the caller's transaction (services/atomically.ts), its log line and notice deferred to `after`. */
async function transitionIn(deps: Deps, tx: Store, after: AfterCommit, t: Transition, input: ChangeInput): Promise<Result<LifecycleChange>> {
  const reason = checkReason(input.reason);
  if (!reason.ok) return reason;
  const by = actorName(input.actor);
  const at = deps.clock();
  const { oidc } = deps.config;
  const found = await lockedAccount(tx, input.username);
  if (!found.ok) return found;
  const account = found.value;
  if (account.id === actorAccountId(input.actor) && t.event !== 'account.resumed') {
    return fail('account_status_conflict', { message: 'An administrator cannot suspend or offboard their own account; ask another administrator.' });
  }
  if (!t.from.includes(account.status)) return fail('account_status_conflict', { message: WHY_NOT[t.event](account) });
  const to = await t.to(tx, account);
  // Read before the cascade: offboarding disables the factors the notice goes to.
  const channels = await boundChannels(tx, account);
  await tx.accounts.setStatus(account.id, to, at);
  const txn = newTxn(deps);
  for (const type of t.signals) await queueSecurityEvent(deps, tx, { accountId: account.id, type, event: {}, at, txn });
  const revoked = t.cascade ? await revokeAccountAccess(deps, tx, account, { ...t.cascade, by, context: input.context, at }) : NOTHING;
  // A disabled workload's JWT access tokens live out their own lifetime (up to 900 s, nhi/workloads.ts).
  const machineTtlS = revoked.workloads > 0 && revoked.machinesTransferredTo === null ? Math.max(0, ...(await tx.workloads.list({ ownerId: account.id })).map((w) => w.tokenTtlS)) : 0;
  await tx.audit.append({
    type: t.event,
    outcome: 'success',
    reason: reason.value,
    accountId: account.id,
    context: input.context,
    at,
    details: { by, username: account.username, from: account.status, to, reason: reason.value, ...(t.cascade ? { revoked } : {}) },
  });
  const changed = { ...account, status: to };
  after(async () => {
    deps.log.warn({ event: t.event, account: account.id, username: account.username, from: account.status, to, by, revoked }, `security event: ${t.event}`);
    await notifyHolder(deps, changed, t.notice(reason.value), input.context, channels);
  });
  return ok({
    account: changed,
    from: account.status,
    revoked,
    selfContained: { accessTokensValidUntil: at + Math.max(oidc.accessTokenTtlS, machineTtlS) * 1000, idTokensValidUntil: at + oidc.idTokenTtlS * 1000 },
  });
}

/** Suspends (`active: false`) or resumes (`active: true`) as a step of a larger change in the caller's transaction; the caller has admitted the actor. */
export function setActiveIn(deps: Deps, tx: Store, after: AfterCommit, active: boolean, input: ChangeInput): Promise<Result<LifecycleChange>> {
  return transitionIn(deps, tx, after, active ? RESUME : SUSPEND, input);
}

/** Offboards as a step of a larger change in the caller's transaction; the caller has admitted the actor. */
export function offboardIn(deps: Deps, tx: Store, after: AfterCommit, input: ChangeInput): Promise<Result<LifecycleChange>> {
  return transitionIn(deps, tx, after, OFFBOARD, input);
}

/**
 * Suspends an account: every session, grant and refresh token ends at once, and every sign-in and
 * recovery is refused (signIn.ts: only active accounts sign in) until it is resumed. Authenticators
 * are kept, so resuming restores sign-in.
 */
export function suspendAccount(deps: Deps, input: ChangeInput): Promise<Result<LifecycleChange>> {
  return transition(deps, SUSPEND, input);
}

/** Resumes a suspended account. Sessions and grants ended by the suspension stay ended. */
export function resumeAccount(deps: Deps, input: ChangeInput): Promise<Result<LifecycleChange>> {
  return transition(deps, RESUME, input);
}

/**
 * Offboards an account for good: everything suspension ends, and, in the same transaction, its
 * passkeys and code factors disabled, its enrolment links and pending code sign-ins revoked, and
 * the account marked `offboarded` (no command brings it back).
 */
export function offboardAccount(deps: Deps, input: ChangeInput): Promise<Result<LifecycleChange>> {
  return transition(deps, OFFBOARD, input);
}

export type RevokeTarget = { readonly username: string } | { readonly all: true };

export interface SessionsRevoked {
  readonly accounts: number;
  readonly sessions: number;
  readonly grants: number;
}

/**
 * OWASP ASVS 5.0 7.4.5: "the application allows users to terminate all active sessions, and an
 * administrator to terminate one user's or all users' sessions". Ends every live session and every
 * OpenID grant of one account, or of every account (the caller's own included), in one
 * transaction; the accounts stay as they are and may sign in again. One account's holder is told;
 * for everyone's, the audit trail records it (no mass email).
 */
export async function revokeSessions(deps: Deps, input: { target: RevokeTarget; actor: Actor; context: RequestContext }): Promise<Result<SessionsRevoked>> {
  const allowed = await authorize(deps, input.actor, { fresh: true });
  if (!allowed.ok) return allowed;
  const by = actorName(input.actor);
  const at = deps.clock();
  const cascade = { scope: 'access', reason: 'admin_revoked', by, context: input.context, at } as const;
  const result = await deps.store.transaction(async (tx): Promise<Result<SessionsRevoked & { account: Account | null }>> => {
    if ('username' in input.target) {
      const found = await lockedAccount(tx, input.target.username);
      if (!found.ok) return found;
      const revoked = await revokeAccountAccess(deps, tx, found.value, cascade);
      await tx.audit.append({ type: 'sessions.revoked_by_admin', outcome: 'success', accountId: found.value.id, context: input.context, at, details: { by, scope: 'account', sessions: revoked.sessions, grants: revoked.grants } });
      return ok({ accounts: 1, sessions: revoked.sessions, grants: revoked.grants, account: found.value });
    }
    const ids = [...new Set([...(await tx.sessions.accountsWithLive(at)), ...(await tx.oidcGrantSessions.accounts())])].sort();
    let sessions = 0;
    let grants = 0;
    for (const id of ids) {
      const account = await tx.accounts.findById(id);
      if (!account) continue;
      const revoked = await revokeAccountAccess(deps, tx, account, cascade);
      sessions += revoked.sessions;
      grants += revoked.grants;
    }
    await tx.audit.append({ type: 'sessions.revoked_by_admin', outcome: 'success', accountId: null, context: input.context, at, details: { by, scope: 'all', accounts: ids.length, sessions, grants } });
    return ok({ accounts: ids.length, sessions, grants, account: null });
  });
  if (!result.ok) return result;
  const { account, ...counts } = result.value;
  deps.log.warn({ event: 'sessions.revoked_by_admin', scope: account ? 'account' : 'all', account: account?.id, by, ...counts }, 'security event: an administrator ended sessions and grants');
  if (account) await notifyHolder(deps, account, { kind: 'sessions_ended', sessions: counts.sessions, grants: counts.grants }, input.context);
  return ok(counts);
}
