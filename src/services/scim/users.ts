import { scimPatch, patchBodyValidation, type ScimPatch, type ScimResource } from 'scim-patch';
import { fail, ok, type Result } from '../../core/errors.ts';
import type { RequestContext } from '../../core/model.ts';
import { userCriteria } from '../../core/scim/filter.ts';
import { desiredUser, displayNameOf, etagOf, ifMatchHolds, renderUser, SCIM, type DesiredUser } from '../../core/scim/user.ts';
import type { ScimUserRecord } from '../../store/ports.ts';
import { actorName, type ScimActor } from '../adminAccess.ts';
import { updateAccount } from '../accountAdmin.ts';
import type { Deps } from '../deps.ts';
import { invite, USERNAME_PATTERN } from '../invitations.ts';
import { offboardAccount, resumeAccount, suspendAccount } from '../lifecycle.ts';
import { mailEnrolmentLink } from './enrolmentMail.ts';

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

/** RFC 7644 §3.3: creates an invited account and mails its enrolment link. */
export async function createUser(deps: Deps, call: ScimCall, body: Record<string, unknown>): Promise<Result<RenderedUser>> {
  const desired = desiredUser(body);
  if (!desired.ok) return desired;
  const username = desired.value.userName.toLowerCase();
  if (!USERNAME_PATTERN.test(username)) return fail('scim_invalid_value', { message: 'userName must be 1-64 characters: letters, digits, and . _ @ - inside.' });
  // §3.3: "If the service provider determines that the creation of the requested resource conflicts
  // with existing resources (e.g., a "User" resource with a duplicate "userName")" -> 409 uniqueness.
  if (await deps.store.accounts.findByUsername(username)) return fail('scim_uniqueness', { message: `A user ${username} exists already.` });
  const invited = await invite(deps, { username, role: 'member', displayName: displayNameOf(desired.value), email: desired.value.email, createdBy: actorName(call.actor), onlyNew: true });
  if (!invited.ok) return invited.code === 'username_taken' ? fail('scim_uniqueness') : fail('scim_invalid_value', { message: invited.message ?? 'The user could not be created.' });
  const account = invited.value.account;
  await deps.store.transaction(async (tx) => {
    await tx.scim.save(account.id, { externalId: desired.value.externalId, givenName: desired.value.givenName, familyName: desired.value.familyName }, deps.clock());
    await tx.audit.append({ type: 'scim.user_created', outcome: 'success', accountId: account.id, context: call.context, at: deps.clock(), details: { by: actorName(call.actor), username, externalId: desired.value.externalId } });
  });
  await mailEnrolmentLink(deps, account, invited.value, call.context);
  if (desired.value.active === false) {
    const suspended = await suspendAccount(deps, { username, actor: call.actor, context: call.context, reason: REASON });
    if (!suspended.ok) return suspended;
  }
  return getUser(deps, account.id, call.base);
}

/** Brings an account to what a resource asks: its own fields, then its status. */
async function apply(deps: Deps, call: ScimCall, record: ScimUserRecord, desired: DesiredUser): Promise<Result<RenderedUser>> {
  const { account } = record;
  if (account.role === 'admin') return fail('scim_account_protected');
  if (desired.userName.toLowerCase() !== account.username) return fail('scim_mutability', { message: 'userName cannot change: it is how the person signs in. Create a new user instead.' });
  const displayName = displayNameOf(desired);
  const accountChanges = { ...(desired.email !== account.email ? { email: desired.email } : {}), ...(displayName !== account.displayName ? { displayName } : {}) };
  if (Object.keys(accountChanges).length > 0) {
    const updated = await updateAccount(deps, { actor: call.actor, username: account.username, changes: accountChanges, context: call.context });
    if (!updated.ok) return updated.code === 'invalid_request' ? fail('scim_invalid_value', { ...(updated.message ? { message: updated.message } : {}) }) : updated;
  }
  const scimChanges = (['externalId', 'givenName', 'familyName'] as const).filter((f) => desired[f] !== record[f]);
  if (scimChanges.length > 0 || Object.keys(accountChanges).length > 0) {
    await deps.store.transaction(async (tx) => {
      await tx.scim.save(account.id, { externalId: desired.externalId, givenName: desired.givenName, familyName: desired.familyName }, deps.clock());
      if (scimChanges.length > 0) {
        await tx.audit.append({ type: 'scim.user_updated', outcome: 'success', accountId: account.id, context: call.context, at: deps.clock(), details: { by: actorName(call.actor), username: account.username, fields: scimChanges } });
      }
    });
  }
  const status = (await deps.store.accounts.findById(account.id))?.status ?? account.status;
  const change = { username: account.username, actor: call.actor, context: call.context, reason: REASON };
  if (desired.active === false && (status === 'active' || status === 'invited')) {
    const suspended = await suspendAccount(deps, change);
    if (!suspended.ok) return suspended;
  }
  if (desired.active === true && status === 'suspended') {
    const resumed = await resumeAccount(deps, change);
    if (!resumed.ok) return resumed;
  }
  return getUser(deps, account.id, call.base);
}

/** The user by id, if the client's If-Match (RFC 7644 §3.14) still names its version. */
async function current(deps: Deps, id: string, ifMatch: string | undefined): Promise<Result<ScimUserRecord>> {
  const record = await found(deps, id);
  if (!record.ok) return record;
  if (!ifMatchHolds(ifMatch, etagOf(record.value))) return fail('scim_precondition_failed');
  // The version named is taken by compare-and-set, so of writers racing from one version only one
  // goes on (the others' If-Match is stale by then). A change made outside SCIM between this and
  // the write (a suspension from the CLI) is not caught; SCIM writers are.
  if (ifMatch !== undefined && !(await deps.store.scim.claimVersion(id, record.value.version, deps.clock()))) return fail('scim_precondition_failed');
  return record;
}

/** RFC 7644 §3.5.1: the resource as given replaces the user's (attributes left out are cleared). */
export async function replaceUser(deps: Deps, call: ScimCall, id: string, body: Record<string, unknown>, ifMatch?: string): Promise<Result<RenderedUser>> {
  const record = await current(deps, id, ifMatch);
  if (!record.ok) return record;
  const desired = desiredUser(body);
  if (!desired.ok) return desired;
  return apply(deps, call, record.value, desired.value);
}

/**
 * RFC 7644 §3.5.2: the operations are checked and applied to the user's resource by scim-patch
 * (which takes `op` in any case, paths with value filters such as `emails[type eq "work"].value`,
 * and a path-less operation whose value is an object of attributes), then the result is applied
 * like a PUT. Read-only attributes changed by a PATCH are refused.
 */
export async function patchUser(deps: Deps, call: ScimCall, id: string, body: Record<string, unknown>, ifMatch?: string): Promise<Result<RenderedUser>> {
  const record = await current(deps, id, ifMatch);
  if (!record.ok) return record;
  const before = renderUser(record.value, call.base);
  let after: Record<string, unknown>;
  try {
    patchBodyValidation(body as unknown as ScimPatch);
    const operations = (body as unknown as ScimPatch).Operations.map(normaliseOperation);
    after = scimPatch(structuredClone(before) as unknown as ScimResource, operations, { mutateDocument: false, treatMissingAsAdd: true }) as unknown as Record<string, unknown>;
  } catch (error) {
    const scimType = (error as { scimCode?: string }).scimCode;
    const message = (error as Error).message.slice(0, 200);
    if (scimType === 'noTarget') return fail('scim_no_target', { message });
    if (scimType === 'invalidPath') return fail('scim_invalid_path', { message });
    if (scimType === 'invalidValue') return fail('scim_invalid_value', { message });
    return fail('scim_invalid_syntax', { message });
  }
  for (const readOnly of ['id', 'meta', 'groups'] as const) {
    if (JSON.stringify(after[readOnly]) !== JSON.stringify(before[readOnly])) return fail('scim_mutability', { message: `${readOnly} is read-only${readOnly === 'groups' ? ': change membership through /Groups' : ''}.` });
  }
  const desired = desiredUser(after);
  if (!desired.ok) return desired;
  return apply(deps, call, record.value, desired.value);
}

/**
 * A path-less operation's value names attributes as keys (`{"active": false}`,
 * `{"name.givenName": "Ada"}`): a key with a dot is the same as that path (RFC 7644 §3.5.2.3 allows
 * either); scim-patch wants the nested form.
 */
function normaliseOperation<T extends { path?: string; value?: unknown }>(op: T): T {
  if (op.path !== undefined || typeof op.value !== 'object' || op.value === null || Array.isArray(op.value)) return op;
  const value: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(op.value as Record<string, unknown>)) {
    const [head, sub] = key.split('.', 2) as [string, string | undefined];
    if (sub === undefined || key.includes('[') || key.startsWith('urn:')) value[key] = v;
    else value[head] = { ...((value[head] as Record<string, unknown> | undefined) ?? {}), [sub]: v };
  }
  return { ...op, value };
}

/** RFC 7644 §3.6: offboards the account (every session, grant, factor, link and machine it owns). */
export async function deleteUser(deps: Deps, call: ScimCall, id: string, ifMatch?: string): Promise<Result<null>> {
  const record = await current(deps, id, ifMatch);
  if (!record.ok) return record;
  if (record.value.account.role === 'admin') return fail('scim_account_protected');
  const offboarded = await offboardAccount(deps, { username: record.value.account.username, actor: call.actor, context: call.context, reason: REASON });
  return offboarded.ok ? ok(null) : offboarded;
}
