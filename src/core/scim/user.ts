import { fail, ok, type Result } from '../errors.ts';
import type { Account } from '../model.ts';

/** RFC 7643 §8.7.1 and RFC 7644 §3.12, §3.4.2, §3.5.2. */
export const SCIM = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  config: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

/** Bounds of what is stored (test/reliability/support/bounds.ts). */
export const MAX_EXTERNAL_ID = 255;
export const MAX_NAME_PART = 128;

/** What a SCIM user resource is made of here. */
export interface ScimUserView {
  readonly account: Account;
  readonly externalId: string | null;
  readonly givenName: string | null;
  readonly familyName: string | null;
  readonly version: number;
  readonly updatedAt: number;
}

/**
 * RFC 7644 §3.14: a weak entity tag, from the SCIM version and the account's last change (a
 * suspension from the CLI changes the resource too).
 */
export function etagOf(view: Pick<ScimUserView, 'version' | 'updatedAt'>): string {
  return `W/"${view.version}-${view.updatedAt}"`;
}

/** RFC 7232 §3.1 with §2.3.2 weak comparison: `*`, or any listed tag equal once `W/` is set aside. */
export function ifMatchHolds(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  const wanted = bare(etag);
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === wanted);
}

/** The user as RFC 7643 §4.1 describes it; `base` is the SCIM endpoint's absolute URL. */
export function renderUser(view: ScimUserView, base: string): Record<string, unknown> {
  const { account } = view;
  const name = {
    ...(view.givenName !== null ? { givenName: view.givenName } : {}),
    ...(view.familyName !== null ? { familyName: view.familyName } : {}),
    formatted: [view.givenName, view.familyName].filter((p) => p !== null).join(' ') || account.displayName,
  };
  return {
    schemas: [SCIM.user],
    id: account.id,
    ...(view.externalId !== null ? { externalId: view.externalId } : {}),
    userName: account.username,
    name,
    displayName: account.displayName,
    // An invited account is provisioned and may enrol; only a suspended one is inactive.
    active: account.status !== 'suspended',
    emails: account.email ? [{ value: account.email, type: 'work', primary: true }] : [],
    groups: [{ value: account.role, display: account.role, $ref: `${base}/Groups/${account.role}`, type: 'direct' }],
    meta: {
      resourceType: 'User',
      created: new Date(account.createdAt).toISOString(),
      lastModified: new Date(view.updatedAt).toISOString(),
      location: `${base}/Users/${account.id}`,
      version: etagOf(view),
    },
  };
}

/** What a SCIM user resource asks the account to be (RFC 7643 §4.1). */
export interface DesiredUser {
  readonly userName: string;
  readonly externalId: string | null;
  readonly givenName: string | null;
  readonly familyName: string | null;
  readonly displayName: string | null;
  readonly email: string | null;
  /** `null` when the resource leaves it out: the account's state stays as it is (a PUT that omits it never resumes a suspended account). */
  readonly active: boolean | null;
}

const invalid = (message: string) => fail('scim_invalid_value', { message });

/** A string attribute: absent or null is null; anything else must be a string within `max`. */
function text(value: unknown, name: string, max: number): Result<string | null> {
  if (value === undefined || value === null) return ok(null);
  if (typeof value !== 'string') return invalid(`${name} must be a string.`);
  const trimmed = value.trim();
  if (trimmed.length > max) return invalid(`${name} is at most ${max} characters.`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return invalid(`${name} is one line of text.`);
  return ok(trimmed === '' ? null : trimmed);
}

/**
 * `active` as a boolean. Some provisioning clients send it as the strings "True" and "False"
 * (RFC 7643 §2.3.2 says boolean; the case-insensitive strings are taken too, nothing else).
 */
function flag(value: unknown): Result<boolean | null> {
  if (value === undefined || value === null) return ok(null);
  if (typeof value === 'boolean') return ok(value);
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return ok(value.toLowerCase() === 'true');
  return invalid('active must be true or false.');
}

/** The primary address, or the first (RFC 7643 §2.4: at most one is primary). */
function primaryEmail(value: unknown): Result<string | null> {
  if (value === undefined || value === null) return ok(null);
  if (!Array.isArray(value)) return invalid('emails must be a list.');
  const entries = value.filter((e): e is { value?: unknown; primary?: unknown } => typeof e === 'object' && e !== null);
  if (entries.length !== value.length) return invalid('Each of emails is an object with a value.');
  const chosen = entries.find((e) => e.primary === true || e.primary === 'True' || e.primary === 'true') ?? entries[0];
  return chosen ? text(chosen.value, 'emails.value', 254) : ok(null);
}

/** Reads a user resource (a POST or PUT body, or the result of a PATCH) into what it asks for. */
export function desiredUser(resource: Record<string, unknown>): Result<DesiredUser> {
  const userName = text(resource.userName, 'userName', 256);
  if (!userName.ok) return userName;
  if (userName.value === null) return invalid('userName is required (RFC 7643 §4.1.1).');
  const externalId = text(resource.externalId, 'externalId', MAX_EXTERNAL_ID);
  if (!externalId.ok) return externalId;
  const name = resource.name;
  if (name !== undefined && name !== null && (typeof name !== 'object' || Array.isArray(name))) return invalid('name must be an object.');
  const parts = (name ?? {}) as Record<string, unknown>;
  const givenName = text(parts.givenName, 'name.givenName', MAX_NAME_PART);
  if (!givenName.ok) return givenName;
  const familyName = text(parts.familyName, 'name.familyName', MAX_NAME_PART);
  if (!familyName.ok) return familyName;
  const displayName = text(resource.displayName, 'displayName', 128);
  if (!displayName.ok) return displayName;
  const email = primaryEmail(resource.emails);
  if (!email.ok) return email;
  const active = flag(resource.active);
  if (!active.ok) return active;
  return ok({ userName: userName.value, externalId: externalId.value, givenName: givenName.value, familyName: familyName.value, displayName: displayName.value, email: email.value, active: active.value });
}

/** The display name an account gets: the one given, else the name's parts, else the username. */
export function displayNameOf(desired: DesiredUser): string {
  return desired.displayName ?? ([desired.givenName, desired.familyName].filter((p) => p !== null).join(' ') || desired.userName);
}
