import { scimPatch, patchBodyValidation, type ScimPatch, type ScimResource } from 'scim-patch';
import { fail, type Failure, type Result } from '../../core/errors.ts';
import { desiredUser, type DesiredUser } from '../../core/scim/user.ts';

/**
 * RFC 7644 §3.5.2 PATCH of a user resource, applied by scim-patch to the resource as it is rendered
 * (services/scim/users.ts applies the result like a PUT): the operations are checked first, since
 * scim-patch trusts its input.
 */

/** What the user resource `before` asks for once the PATCH `body` is applied to it. */
export function patched(before: Record<string, unknown>, body: Record<string, unknown>): Result<DesiredUser> {
  const refused = Array.isArray(body.Operations) ? (body.Operations as unknown[]).map(refusedOperation).find((r) => r !== null) : undefined;
  if (refused) return refused;
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
  // scim-patch answers a path-less replace of nothing with no resource at all.
  if (typeof after !== 'object' || after === null || Array.isArray(after)) return fail('scim_invalid_value', { message: 'The operations leave no user resource.' });
  for (const readOnly of ['id', 'meta', 'groups'] as const) {
    if (JSON.stringify(after[readOnly]) !== JSON.stringify(before[readOnly])) return fail('scim_mutability', { message: `${readOnly} is read-only${readOnly === 'groups' ? ': change membership through /Groups' : ''}.` });
  }
  return desiredUser(after);
}

/** Names that reach a JavaScript object's prototype rather than an attribute. */
const PROTOTYPE_NAME = /(?:^|[^A-Za-z0-9_$])(?:__proto__|constructor|prototype)(?:$|[^A-Za-z0-9_$])/i;

/**
 * scim-patch walks a path and merges a value with plain property access, so a path such as
 * `__proto__.x` or `constructor.prototype.x` would write to Object.prototype for the whole
 * process. No SCIM attribute has such a name (RFC 7643 §2.1: ATTRNAME is ALPHA *(nameChar), and
 * none in any schema is one of these): an operation naming one, in its path (outside quoted filter
 * values) or as a key of its value at any depth, is refused before scim-patch sees it, and so is
 * an add or replace without a value.
 */
function refusedOperation(op: unknown): Failure | null {
  if (typeof op !== 'object' || op === null) return null;
  const { op: kind, path, value } = op as { op?: unknown; path?: unknown; value?: unknown };
  // RFC 7644 §3.5.2.1 and §3.5.2.3: an add or replace "MUST contain a "value" member".
  if (typeof kind === 'string' && /^(add|replace)$/i.test(kind) && value === undefined) return fail('scim_invalid_value', { message: `An ${kind.toLowerCase()} operation needs a value.` });
  if (typeof path === 'string' && PROTOTYPE_NAME.test(path.replace(/"(?:[^"\\]|\\.)*"/g, '""'))) return fail('scim_invalid_path', { message: `${path.slice(0, 100)} names no attribute.` });
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== 'object' || next === null) continue;
    for (const key of Object.keys(next)) {
      if (PROTOTYPE_NAME.test(key)) return fail('scim_invalid_value', { message: `${key.slice(0, 100)} names no attribute.` });
      pending.push((next as Record<string, unknown>)[key]);
    }
  }
  return null;
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
