/**
 * Malformed and hostile SCIM input (DESIGN.md principle 7: bad input never causes a 5xx), on
 * SQLite and PostgreSQL: each request below is answered 4xx in the SCIM error format with a
 * stable Keybound code, and none leaves a trace in the process (a PATCH path reaching
 * Object.prototype) or in the user it names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { provisioningKey } from './support.ts';
import { PATCH_OP } from '../fixtures/scim/sequences.ts';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const patch = (...operations: unknown[]) => JSON.stringify({ schemas: [PATCH_OP], Operations: operations });
const deepJson = (levels: number) => `${'{"a":'.repeat(levels)}"x"${'}'.repeat(levels)}`;
const q = (filter: string) => `/scim/v2/Users?filter=${encodeURIComponent(filter)}`;

/** [method, url, body (`:id` in either is the target user), status, code]. */
const CASES: readonly (readonly [string, string, string | undefined, number, string])[] = [
  ['POST', '/scim/v2/Users', '{"userName": ', 400, 'scim_invalid_syntax'],
  ['POST', '/scim/v2/Users', '[]', 400, 'scim_invalid_value'],
  ['POST', '/scim/v2/Users', 'null', 400, 'scim_invalid_value'],
  ['POST', '/scim/v2/Users', '{"userName":"zoë"}', 400, 'scim_invalid_value'],
  ['POST', '/scim/v2/Users', '{"userName":"a\\u0000b"}', 400, 'scim_invalid_value'],
  ['POST', '/scim/v2/Users', '{"userName":"m.one","emails":[{"value":"a\\u0000@b.example"}]}', 400, 'scim_invalid_value'],
  ['POST', '/scim/v2/Users', '{"userName":"m.two","__proto__":{"role":"admin"}}', 400, 'scim_invalid_syntax'],
  ['GET', q(`userName eq "${'a'.repeat(1000)}"`), undefined, 400, 'scim_invalid_filter'],
  ['GET', q(`${'('.repeat(499)}userName eq "a"${')'.repeat(485)}`), undefined, 400, 'scim_invalid_filter'],
  ['GET', q('userName eq "a\u0000b"'), undefined, 400, 'scim_invalid_filter'],
  ['GET', '/scim/v2/Users?filter=userName%20eq%20%22%ED%A0%80%22', undefined, 400, 'scim_invalid_filter'],
  ['GET', q('userName eq "a" or userName eq "b"'), undefined, 400, 'scim_invalid_filter'],
  ['GET', q('not (userName eq "a")'), undefined, 400, 'scim_invalid_filter'],
  ['GET', '/scim/v2/Users?startIndex=1e3', undefined, 400, 'scim_invalid_value'],
  ['GET', '/scim/v2/Users/%00abc', undefined, 400, 'scim_invalid_value'],
  ['PUT', '/scim/v2/Users/%00abc', '{"userName":"x"}', 400, 'scim_invalid_value'],
  ['DELETE', '/scim/v2/Users/%00abc', undefined, 400, 'scim_invalid_value'],
  ['GET', '/scim/v2/Users/%E2%80%AE', undefined, 404, 'scim_not_found'],
  ['GET', `/scim/v2/Users/${'x'.repeat(65)}`, undefined, 400, 'scim_invalid_value'],
  ['PATCH', '/scim/v2/Users/:id', '{"schemas":["x"],"Operations":[]}', 400, 'scim_invalid_value'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'replace' }), 400, 'scim_invalid_value'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'add', path: 'displayName' }), 400, 'scim_invalid_value'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'add', path: '__proto__.polluted', value: 'yes' }), 400, 'scim_invalid_path'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'replace', path: 'constructor.prototype.polluted', value: 'yes' }), 400, 'scim_invalid_path'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:__proto__.polluted', value: 'yes' }), 400, 'scim_invalid_path'],
  // The JSON parser refuses __proto__ and constructor.prototype keys in a body; dotted keys are refused here.
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'add', value: 'V' }).replace('"V"', '{"name":{"__proto__":{"polluted":"yes"}}}'), 400, 'scim_invalid_syntax'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'add', value: { constructor: { prototype: { polluted: 'yes' } } } }), 400, 'scim_invalid_syntax'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'add', value: { 'name.constructor': { prototype: { polluted: 'yes' } } } }), 400, 'scim_invalid_value'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'replace', path: 'name.givenName.x.y.z', value: 'a' }), 400, 'scim_invalid_value'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'replace', path: '['.repeat(500), value: 'a' }), 400, 'scim_invalid_syntax'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'replace', path: `emails[${'value eq "a" and '.repeat(28)}value eq "b"]`, value: 'a' }), 400, 'scim_no_target'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'replace', path: 'displayName', value: 'V' }).replace('"V"', deepJson(3000)), 400, 'scim_invalid_value'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'replace', path: 'displayName', value: 'a\u0000' }), 400, 'scim_invalid_value'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'replace', path: 'userName', value: 'someone.else' }), 400, 'scim_mutability'],
  ['PATCH', '/scim/v2/Users/:id', patch({ op: 'add', path: 'groups', value: [{ value: 'admin' }] }), 400, 'scim_mutability'],
  ['PATCH', '/scim/v2/Users/:id', patch(...Array.from({ length: 51 }, () => ({ op: 'replace', path: 'displayName', value: 'x' }))), 400, 'scim_invalid_value'],
  ['PATCH', '/scim/v2/Groups/member', patch({ op: 'add', path: 'members', value: [{ value: 'a\u0000' }] }), 400, 'scim_invalid_value'],
  ['PATCH', '/scim/v2/Groups/member', patch({ op: 'add', path: 'members', value: [{ value: 5 }] }), 400, 'scim_invalid_value'],
  ['PATCH', '/scim/v2/Groups/member', patch({ op: 'add', path: 'members[value eq "x"]', value: [] }), 400, 'scim_mutability'],
  ['PATCH', '/scim/v2/Groups/member', patch(null), 400, 'scim_invalid_value'],
  ['PATCH', '/scim/v2/Groups/member', patch({ op: 'add', path: 'members', value: Array.from({ length: 1001 }, () => ({ value: ':id' })) }), 400, 'scim_invalid_value'],
];

describe.each(BACKENDS)('malformed SCIM input on %s', (backend) => {
  let t: TestApp;
  let key: string;
  let id: string;

  const send = (method: string, url: string, body?: string) =>
    t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}) }, ...(body !== undefined ? { payload: body } : {}) });

  beforeAll(async () => {
    t = await startTestApp({ backend });
    ({ key } = await provisioningKey(t));
    id = (await send('POST', '/scim/v2/Users', JSON.stringify({ userName: 'fuzz.target', displayName: 'Target', emails: [{ value: 'target@fuzz.example' }] }))).json().id;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('answers each malformed request 4xx in the SCIM error format with its stable code, and the user is unchanged', async () => {
    const before = (await send('GET', `/scim/v2/Users/${id}`)).json();
    const answers: string[] = [];
    const wanted: string[] = [];
    for (const [method, url, body, status, code] of CASES) {
      const r = await send(method, url.replace(':id', id), body?.replaceAll(':id', id));
      const label = `${method} ${url.slice(0, 60)} ${body?.slice(0, 80) ?? ''}`;
      answers.push(`${label} → ${r.statusCode} ${r.statusCode < 500 ? (r.json() as { keyboundError?: string }).keyboundError : r.body.slice(0, 80)}`);
      wanted.push(`${label} → ${status} ${code}`);
      if (r.statusCode < 500) expect(r.json(), label).toMatchObject({ schemas: [ERROR], status: String(status) });
    }
    expect(answers).toEqual(wanted);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await send('GET', `/scim/v2/Users/${id}`)).json()).toEqual(before);
  });

  it('bounds pagination: a startIndex below 1 is 1, a negative count 0, a huge count at most 200, a startIndex past the end an empty page', async () => {
    expect((await send('GET', '/scim/v2/Users?startIndex=-5&count=-1')).json()).toMatchObject({ startIndex: 1, itemsPerPage: 0, Resources: [] });
    const all = (await send('GET', '/scim/v2/Users?count=999999999')).json();
    expect(all.itemsPerPage).toBeLessThanOrEqual(200);
    expect(all.itemsPerPage).toBe(Math.min(200, all.totalResults));
    expect((await send('GET', '/scim/v2/Users?startIndex=999999999')).json()).toMatchObject({ startIndex: 999999999, itemsPerPage: 0, Resources: [] });
  });
});
