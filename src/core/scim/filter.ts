import { parse, type Filter } from 'scim2-parse-filter';
import { fail, ok, type Result } from '../errors.ts';

/** What a supported filter asks of a user: each field present must equal (case-insensitively for userName and email). */
export interface UserCriteria {
  readonly userName?: string;
  readonly email?: string;
  readonly externalId?: string;
  /** Two different values asked of one field: nothing can match. */
  readonly none?: true;
}

/** The longest filter parsed (a provisioning client's are one or two comparisons). */
export const MAX_FILTER = 1000;

const invalid = (message: string) => fail('scim_invalid_filter', { message });

type Field = 'userName' | 'email' | 'externalId';

/**
 * RFC 7644 §3.4.2.2 "Attribute names and attribute operators used in filters are case insensitive":
 * the attribute a comparison names, in the form this server keeps, or null when it keeps no such
 * attribute for filtering. `emails` alone compares its `value` (§3.4.2.2: a multi-valued complex
 * attribute without a sub-attribute means its `value`).
 */
function fieldOf(attrPath: string): Field | null {
  const path = attrPath.replace(/^urn:ietf:params:scim:schemas:core:2\.0:user:/i, '').toLowerCase();
  if (path === 'username') return 'userName';
  if (path === 'externalid') return 'externalId';
  if (path === 'emails' || path === 'emails.value') return 'email';
  return null;
}

function collect(f: Filter, into: Map<Field, string[]>, inEmails: boolean): Result<null> {
  if (f.op === 'and') {
    for (const part of f.filters) {
      const done = collect(part, into, inEmails);
      if (!done.ok) return done;
    }
    return ok(null);
  }
  if (f.op === '[]') {
    if (inEmails || fieldOf(f.attrPath) !== 'email' || f.attrPath.includes('.')) return invalid(`Only emails[...] is supported as a value filter, not ${f.attrPath}[...].`);
    return collect(f.valFilter, into, true);
  }
  if (f.op !== 'eq') return invalid(`The operator ${f.op} is not supported here; use eq (joined with and).`);
  if (typeof f.compValue !== 'string') return invalid('Compare with a string in double quotes.');
  if (inEmails) {
    const sub = f.attrPath.toLowerCase();
    // Every address this server keeps is the work address.
    if (sub === 'type') return f.compValue.toLowerCase() === 'work' ? ok(null) : ok(noneMarker(into));
    if (sub !== 'value') return invalid(`Inside emails[...] only value and type are supported, not ${f.attrPath}.`);
    into.set('email', [...(into.get('email') ?? []), f.compValue]);
    return ok(null);
  }
  const field = fieldOf(f.attrPath);
  if (!field) return invalid(`Filtering on ${f.attrPath} is not supported; use userName, emails or externalId.`);
  into.set(field, [...(into.get(field) ?? []), f.compValue]);
  return ok(null);
}

const NONE = '\u0000none';
function noneMarker(into: Map<Field, string[]>): null {
  into.set('userName', [...(into.get('userName') ?? []), NONE]);
  return null;
}

/**
 * Parses a SCIM filter (RFC 7644 §3.4.2.2) with scim2-parse-filter and keeps what this server
 * answers: `eq` on userName, emails (emails.value, emails[value eq ...]) and externalId, joined with
 * `and`. Anything else is `invalidFilter` (§3.12: "The specified filter syntax was invalid ... or
 * the specified attribute and filter comparison combination is not supported").
 */
export function userCriteria(filter: string): Result<UserCriteria> {
  if (filter.length > MAX_FILTER) return invalid(`A filter is at most ${MAX_FILTER} characters.`);
  let ast: Filter;
  try {
    ast = parse(filter);
  } catch {
    return invalid('The filter is not valid SCIM filter syntax (RFC 7644 §3.4.2.2), for example userName eq "alex@example.com".');
  }
  const found = new Map<Field, string[]>();
  const collected = collect(ast, found, false);
  if (!collected.ok) return collected;
  const criteria: { -readonly [K in keyof UserCriteria]: UserCriteria[K] } = {};
  for (const [field, values] of found) {
    const folded = field === 'externalId' ? values : values.map((v) => v.toLowerCase());
    if (new Set(folded).size > 1 || folded.includes(NONE)) criteria.none = true;
    criteria[field] = values[0]!;
  }
  return ok(criteria);
}
