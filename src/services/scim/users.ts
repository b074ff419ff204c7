import { fail, ok, type Result } from '../../core/errors.ts';
import type { RequestContext } from '../../core/model.ts';
import { userCriteria } from '../../core/scim/filter.ts';
import { desiredUser, displayNameOf, etagOf, ifMatchHolds, renderUser, SCIM, type DesiredUser } from '../../core/scim/user.ts';
import type { ScimUserRecord } from '../../store/ports.ts';
import { actorName, authorize, type ScimActor } from '../adminAccess.ts';
import { updateAccountIn } from '../accountAdmin.ts';
import { atomically, type AfterCommit } from '../atomically.ts';
import type { Store } from '../../store/index.ts';
import type { Deps } from '../deps.ts';
import { invite, USERNAME_PATTERN } from '../invitations.ts';
import { offboardIn, setActiveIn } from '../lifecycle.ts';
import { mailEnrolmentLink } from './enrolmentMail.ts';
import { patched } from './patch.ts';

/**
 * SCIM 2.0 users (RFC 7644 §3.3-§3.6; docs/scim.md) over Keybound's accounts. A created user is an
 * invited account with an enrolment link sent by email; `active: false` suspends, `active: true`
 * resumes; DELETE offboards with the whole cascade (services/lifecycle.ts). Administrators are
 * read-only here. Every change goes through the service that owns it, audited with the SCIM
 * credential as its actor.
 */
export interface ScimCall {
  readonly actor: ScimActor;
  readonly context: RequestContext;
  /** The SCIM endpoint's absolute URL, for `meta.location`. */
  readonly base: string;
}

export interface RenderedUser {
  readonly resource: Record<string, unknown>;
  readonly etag: string;
}

const REASON = 'SCIM provisioning';
export const DEFAULT_COUNT = 100;
export const MAX_COUNT = 200;

function rendered(record: ScimUserRecord, base: string): RenderedUser {
  return { resource: renderUser(record, base), etag: etagOf(record) };
}

async function found(deps: Deps, id: string): Promise<Result<ScimUserRecord>> {
  const record = await deps.store.scim.find(id);
  return record ? ok(record) : fail('scim_not_found', { message: `No user ${id}.` });
}

export async function getUser(deps: Deps, id: string, base: string): Promise<Result<RenderedUser>> {
  const record = await found(deps, id);
  return record.ok ? ok(rendered(record.value, base)) : record;
}

/** RFC 7644 §3.4.2: filter, then `startIndex` (1-based) and `count` (at most MAX_COUNT). */
export async function listUsers(deps: Deps, input: { filter?: string; startIndex?: number; count?: number; base: string }) {
  const criteria = input.filter === undefined ? ok({}) : userCriteria(input.filter);
  if (!criteria.ok) return criteria;
  // §3.4.2.4: a startIndex below 1 is taken as 1; a negative count as 0.
  const startIndex = Math.max(1, input.startIndex ?? 1);
  const count = Math.min(MAX_COUNT, Math.max(0, input.count ?? DEFAULT_COUNT));
  const { none, ...fields } = criteria.value as { none?: true; userName?: string; email?: string; externalId?: string };
  const { total, records } = none ? { total: 0, records: [] } : await deps.store.scim.list({ ...fields, offset: startIndex - 1, limit: count });
  return ok({
    schemas: [SCIM.list],
    totalResults: total,
    startIndex,
    itemsPerPage: records.length,
    Resources: records.map((r) => renderUser(r, input.base)),
  });
}

/**
 * RFC 7644 §3.3: creates an invited account (suspended at once if the resource says `active:
 * false`) with its SCIM attributes, in one transaction, then mails its enrolment link.
 */
export async function createUser(deps: Deps, call: ScimCall, body: Record<string, unknown>): Promise<Result<RenderedUser>> {
  const desired = desiredUser(body);
  if (!desired.ok) return desired;
  const username = desired.value.userName.toLowerCase();
  if (!USERNAME_PATTERN.test(username)) return fail('scim_invalid_value', { message: 'userName must be 1-64 characters: letters, digits, and . _ @ - inside.' });
  // §3.3: "If the service provider determines that the creation of the requested resource conflicts
  // with existing resources (e.g., a "User" resource with a duplicate "userName")" -> 409 uniqueness.
  if (await deps.store.accounts.findByUsername(username)) return fail('scim_uniqueness', { message: `A user ${username} exists already.` });
  const allowed = await authorize(deps, call.actor, { fresh: true });
  if (!allowed.ok) return allowed;
  const created = await atomically(deps, async (tx, after): Promise<Result<string>> => {
    // invite's own transaction is this one (store/index.ts: a transaction inside one joins it).
    const invited = await invite({ ...deps, store: tx }, { username, role: 'member', displayName: displayNameOf(desired.value), email: desired.value.email, createdBy: actorName(call.actor), onlyNew: true });
    if (!invited.ok) return invited.code === 'username_taken' ? fail('scim_uniqueness') : fail('scim_invalid_value', { message: invited.message ?? 'The user could not be created.' });
    const { account } = invited.value;
    await tx.scim.save(account.id, { externalId: desired.value.externalId, givenName: desired.value.givenName, familyName: desired.value.familyName }, deps.clock());
    await tx.audit.append({ type: 'scim.user_created', outcome: 'success', accountId: account.id, context: call.context, at: deps.clock(), details: { by: actorName(call.actor), username, externalId: desired.value.externalId } });
    after(() => mailEnrolmentLink(deps, account, invited.value, call.context));
    if (desired.value.active === false) {
      const suspended = await setActiveIn(deps, tx, after, false, { username, actor: call.actor, context: call.context, reason: REASON });
      if (!suspended.ok) return suspended;
    }
    return ok(account.id);
  });
  return created.ok ? getUser(deps, created.value, call.base) : created;
}

/**
 * A PUT, PATCH or DELETE of a user as one change (RFC 7644 §3.5.2: "if any operation fails, the
 * entire PATCH SHALL NOT be applied"): in one transaction, the account row held from the If-Match
 * check to the commit, every write and audit event of the change, or none of them when any step
 * fails (services/atomically.ts); the holder is told and the log written once it has committed.
 */
async function change<T>(deps: Deps, call: ScimCall, id: string, ifMatch: string | undefined, step: (tx: Store, after: AfterCommit, record: ScimUserRecord) => Promise<Result<T>>): Promise<Result<T>> {
  const allowed = await authorize(deps, call.actor, { fresh: true });
  if (!allowed.ok) return allowed;
  return atomically(deps, async (tx, after) => {
    const record = await current(deps, tx, id, ifMatch);
    return record.ok ? step(tx, after, record.value) : record;
  });
}

/** Brings an account to what a resource asks, in the change's transaction: its own fields, then its status. */
async function apply(deps: Deps, tx: Store, after: AfterCommit, call: ScimCall, record: ScimUserRecord, desired: DesiredUser): Promise<Result<null>> {
  const { account } = record;
  if (account.role === 'admin') return fail('scim_account_protected');
  if (desired.userName.toLowerCase() !== account.username) return fail('scim_mutability', { message: 'userName cannot change: it is how the person signs in. Create a new user instead.' });
  const displayName = displayNameOf(desired);
  const accountChanges = { ...(desired.email !== account.email ? { email: desired.email } : {}), ...(displayName !== account.displayName ? { displayName } : {}) };
  if (Object.keys(accountChanges).length > 0) {
    const updated = await updateAccountIn(deps, tx, after, { actor: call.actor, username: account.username, changes: accountChanges, context: call.context });
    if (!updated.ok) return updated.code === 'invalid_request' ? fail('scim_invalid_value', { ...(updated.message ? { message: updated.message } : {}) }) : updated;
  }
  const scimChanges = (['externalId', 'givenName', 'familyName'] as const).filter((f) => desired[f] !== record[f]);
  if (scimChanges.length > 0 || Object.keys(accountChanges).length > 0) {
    await tx.scim.save(account.id, { externalId: desired.externalId, givenName: desired.givenName, familyName: desired.familyName }, deps.clock());
    if (scimChanges.length > 0) {
      await tx.audit.append({ type: 'scim.user_updated', outcome: 'success', accountId: account.id, context: call.context, at: deps.clock(), details: { by: actorName(call.actor), username: account.username, fields: scimChanges } });
    }
  }
  const status = (await tx.accounts.findById(account.id))?.status ?? account.status;
  const wanted = { username: account.username, actor: call.actor, context: call.context, reason: REASON };
  const toggle = (desired.active === false && (status === 'active' || status === 'invited')) || (desired.active === true && status === 'suspended');
  if (toggle && desired.active === true) {
    // Provisioning resumes what provisioning suspended. A suspension by an administrator or the
    // operator (an incident, a lost device) is theirs to lift: the identity provider still calling
    // the person active is not a reason to let them back in.
    const [suspension] = await tx.audit.list({ accountId: account.id, type: 'account.suspended', limit: 1 });
    const by = typeof suspension?.details.by === 'string' ? suspension.details.by : null;
    if (!by?.startsWith('scim:')) return fail('account_status_conflict', { message: `${account.username} was suspended by ${by ?? 'an administrator'}, not by provisioning; only an administrator can resume it.` });
  }
  if (toggle) {
    const toggled = await setActiveIn(deps, tx, after, desired.active === true, wanted);
    if (!toggled.ok) return toggled;
  }
  return ok(null);
}

/**
 * The user by id, if the client's If-Match (RFC 7644 §3.14) still names its version, its account
 * row held for the rest of the change's transaction (every change of status, role or details takes
 * it too, so the check cannot go stale before the commit). The version named is also taken by
 * compare-and-set, so it changes with this write.
 */
async function current(deps: Deps, tx: Store, id: string, ifMatch: string | undefined): Promise<Result<ScimUserRecord>> {
  await tx.accounts.lock(id);
  const record = await tx.scim.find(id);
  if (!record) return fail('scim_not_found', { message: `No user ${id}.` });
  if (!ifMatchHolds(ifMatch, etagOf(record))) return fail('scim_precondition_failed');
  if (ifMatch !== undefined && !(await tx.scim.claimVersion(id, record.version, deps.clock()))) return fail('scim_precondition_failed');
  return ok(record);
}

/** RFC 7644 §3.5.1: the resource as given replaces the user's (attributes left out are cleared). */
export async function replaceUser(deps: Deps, call: ScimCall, id: string, body: Record<string, unknown>, ifMatch?: string): Promise<Result<RenderedUser>> {
  const desired = desiredUser(body);
  const changed = await change(deps, call, id, ifMatch, async (tx, after, record) => (desired.ok ? apply(deps, tx, after, call, record, desired.value) : desired));
  return changed.ok ? getUser(deps, id, call.base) : changed;
}

/**
 * RFC 7644 §3.5.2: the operations are checked and applied to the user's resource by scim-patch
 * (which takes `op` in any case, paths with value filters such as `emails[type eq "work"].value`,
 * and a path-less operation whose value is an object of attributes), then the result is applied
 * like a PUT, all in one transaction. Read-only attributes changed by a PATCH are refused.
 */
export async function patchUser(deps: Deps, call: ScimCall, id: string, body: Record<string, unknown>, ifMatch?: string): Promise<Result<RenderedUser>> {
  const changed = await change(deps, call, id, ifMatch, async (tx, after, record) => {
    const desired = patched(renderUser(record, call.base), body);
    return desired.ok ? apply(deps, tx, after, call, record, desired.value) : desired;
  });
  return changed.ok ? getUser(deps, id, call.base) : changed;
}

/** RFC 7644 §3.6: offboards the account (every session, grant, factor, link and machine it owns), in the change's transaction. */
export async function deleteUser(deps: Deps, call: ScimCall, id: string, ifMatch?: string): Promise<Result<null>> {
  const offboarded = await change(deps, call, id, ifMatch, (tx, after, record) =>
    record.account.role === 'admin' ? Promise.resolve(fail('scim_account_protected')) : offboardIn(deps, tx, after, { username: record.account.username, actor: call.actor, context: call.context, reason: REASON }),
  );
  return offboarded.ok ? ok(null) : offboarded;
}
