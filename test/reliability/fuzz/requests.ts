/**
 * Hostile requests any endpoint gets: bodies of every shape and media type, one-place mutations of a
 * valid JSON body, session cookies real, tampered or absurd, path segments, Origin headers; and the
 * two generic kinds of fuzz-table row built from them (a JSON endpoint, a request without a body).
 */
import fc from 'fast-check';
import { ORIGIN } from '../../helpers/app.ts';
import { anyJson, byteMutation, mutateBytes, nastyString, rawJsonText, type ByteMutation } from './arbitraries.ts';
import type { FuzzContext, FuzzEndpoint, FuzzRequest } from './types.ts';

export const JSON_TYPE = 'application/json';

// ---------------------------------------------------------------- bodies any JSON endpoint gets

/** How a POST body goes wrong: a JSON value of any shape, raw text, raw bytes, the wrong media type. */
export type BodyRecipe =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'text'; readonly text: string; readonly contentType: string }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array; readonly contentType: string }
  | { readonly kind: 'none'; readonly contentType: string | null };

const contentType = fc.constantFrom(JSON_TYPE, 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'application/json;charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/cbor', 'application/json, text/plain', 'APPLICATION/JSON', '*/*', 'application/', ';;;');

export const bodyRecipe: fc.Arbitrary<BodyRecipe> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('json' as const), value: anyJson }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('text' as const), text: rawJsonText, contentType: fc.constant(JSON_TYPE) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.oneof(rawJsonText, nastyString), contentType }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 2048 }), contentType }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('none' as const), contentType: fc.option(contentType, { nil: null }) }) },
);

export function bodyRequest(method: FuzzRequest['method'], url: string, recipe: BodyRecipe, headers: Record<string, string> = {}): FuzzRequest {
  const base = { origin: ORIGIN, ...headers };
  switch (recipe.kind) {
    case 'json':
      return { method, url, headers: { ...base, 'content-type': JSON_TYPE }, payload: JSON.stringify(recipe.value) ?? 'null' };
    case 'text':
      return { method, url, headers: { ...base, 'content-type': recipe.contentType }, payload: recipe.text };
    case 'bytes':
      return { method, url, headers: { ...base, 'content-type': recipe.contentType }, payload: Buffer.from(recipe.bytes) };
    case 'none':
      return { method, url, headers: { ...base, ...(recipe.contentType ? { 'content-type': recipe.contentType } : {}) } };
  }
}

// ---------------------------------------------------------------- mutations of valid bodies

/** A change to one place in a valid JSON body. `at` picks the place among all of them. */
export type JsonMutation =
  | { readonly op: 'replace'; readonly at: number; readonly value: unknown }
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'add'; readonly at: number; readonly key: string; readonly value: unknown }
  | { readonly op: 'bytes'; readonly at: number; readonly mutation: ByteMutation };

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: anyJson }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(nastyString.filter((k) => k.length < 40), fc.constantFrom('__proto__', 'constructor', 'extra')), value: anyJson }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('bytes' as const), at: fc.nat(), mutation: byteMutation }) },
);

type Path = (string | number)[];

function paths(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function base64urlPaths(value: unknown): Path[] {
  return paths(value).filter((p) => {
    const v = get(value, p);
    return typeof v === 'string' && v.length > 0 && /^[A-Za-z0-9_-]+$/.test(v);
  });
}

function get(value: unknown, path: Path): unknown {
  return path.reduce<any>((v, k) => (v == null ? undefined : v[k]), value);
}

/** Applies a mutation to a deep copy of `body`. */
export function mutateJson(body: unknown, m: JsonMutation): unknown {
  const copy = structuredClone(body) as any;
  if (m.op === 'bytes') {
    const candidates = base64urlPaths(copy);
    if (candidates.length === 0) return copy;
    const path = candidates[m.at % candidates.length]!;
    const bytes = Buffer.from(get(copy, path) as string, 'base64url');
    return setAt(copy, path, Buffer.from(mutateBytes(new Uint8Array(bytes), m.mutation)).toString('base64url'));
  }
  const all = paths(copy);
  const path = all[m.at % all.length]!;
  if (m.op === 'replace') return setAt(copy, path, m.value);
  if (m.op === 'delete') {
    if (path.length === 0) return undefined;
    const parent = get(copy, path.slice(0, -1)) as any;
    if (Array.isArray(parent)) parent.splice(path[path.length - 1] as number, 1);
    else delete parent[path[path.length - 1]!];
    return copy;
  }
  const target = get(copy, path);
  if (target && typeof target === 'object' && !Array.isArray(target)) {
    // defineProperty, so a "__proto__" key is an own property that JSON.stringify writes out.
    Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

function setAt(root: any, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = get(root, path.slice(0, -1)) as any;
  parent[path[path.length - 1]!] = value;
  return root;
}


// ---------------------------------------------------------------- cookies, ids, headers

/** A session cookie value: random, a real one tampered with, or absurd. */
export type CookieRecipe = { readonly kind: 'none' } | { readonly kind: 'real'; readonly mutation: ByteMutation | null } | { readonly kind: 'text'; readonly value: string } | { readonly kind: 'many'; readonly count: number };

export const cookieRecipe: fc.Arbitrary<CookieRecipe> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  // Half the time a valid session, so the cases reach the services behind the session check.
  { weight: 4, arbitrary: fc.constant({ kind: 'real' as const, mutation: null }) },
  fc.record({ kind: fc.constant('real' as const), mutation: byteMutation }),
  fc.record({ kind: fc.constant('text' as const), value: fc.oneof(nastyString.filter((s) => s.length < 6000), fc.constantFrom('a.b', `${'A'.repeat(16)}.${'B'.repeat(43)}`, '.', '=', ';;', '"quoted"')) }),
  fc.record({ kind: fc.constant('many' as const), count: fc.integer({ min: 2, max: 200 }) }),
);

export async function cookieHeader(recipe: CookieRecipe, ctx: FuzzContext): Promise<Record<string, string>> {
  const name = 'keybound_session';
  switch (recipe.kind) {
    case 'none':
      return {};
    case 'real': {
      const cookie = await ctx.cookie();
      if (!recipe.mutation) return { cookie };
      const value = cookie.split('=')[1]!;
      const mutated = Buffer.from(mutateBytes(new Uint8Array(Buffer.from(value, 'latin1')), recipe.mutation)).toString('latin1');
      return { cookie: `${name}=${mutated}` };
    }
    case 'text':
      return { cookie: `${name}=${Buffer.from(recipe.value, 'utf8').toString('latin1').replace(/[^\x21-\x7e]/g, '%')}` };
    case 'many':
      return { cookie: Array.from({ length: recipe.count }, (_, i) => `${name}=${i}`).join('; ') };
  }
}

/** A path segment: random text (percent-encoded), traversal, huge, or a real id. */
export const pathSegment: fc.Arbitrary<string> = fc.oneof(
  nastyString.filter((s) => s.length > 0 && s.length < 3000).map((s) => Buffer.from(s, 'utf8').toString('hex').replace(/(..)/g, '%$1')),
  fc.constantFrom('..', '%2e%2e', '%2F', '%00', '%', '%zz', 'a%20b', '%c0%ae', 'A'.repeat(64), 'A'.repeat(65), 'A'.repeat(257)),
  fc.uuid(),
);

/** Origin and Sec-Fetch-Site headers, from absent to hostile. */
export const originHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    origin: fc.oneof(fc.constant(ORIGIN), fc.constantFrom('null', 'https://evil.example', 'http://localhost:8080.evil.example', ' http://localhost:8080', 'HTTP://LOCALHOST:8080', ''), nastyString.filter((s) => s.length < 200 && /^[\x20-\x7e]*$/.test(s))),
    'sec-fetch-site': fc.constantFrom('same-origin', 'cross-site', 'none', 'same-site'),
  },
  { requiredKeys: [] },
);


// ---------------------------------------------------------------- generic rows

/** Any body, or a valid body with one mutation, with hostile Origin headers now and then. */
export function jsonEndpoint(method: FuzzRequest['method'], url: string, valid: (ctx: FuzzContext) => Promise<unknown> | unknown, options: { cookie?: boolean; runs?: number } = {}): FuzzEndpoint {
  return {
    name: `${method} ${url}`,
    runs: options.runs ?? 2000,
    recipes: fc.record({
      body: fc.oneof({ weight: 2, arbitrary: bodyRecipe.map((b) => ({ kind: 'any' as const, b })) }, { weight: 3, arbitrary: jsonMutation.map((m) => ({ kind: 'mutate' as const, m })) }),
      cookie: options.cookie ? cookieRecipe : fc.constant({ kind: 'none' as const }),
      origin: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: originHeaders }),
    }),
    async build(recipe, ctx) {
      const headers = { ...(await cookieHeader(recipe.cookie, ctx)), ...(recipe.origin ?? {}) };
      if (recipe.body.kind === 'any') return bodyRequest(method, url, recipe.body.b, headers);
      const body = mutateJson(await valid(ctx), recipe.body.m);
      return { method, url, headers: { origin: ORIGIN, 'content-type': JSON_TYPE, ...headers }, payload: JSON.stringify(body) ?? 'null' };
    },
  };
}

/** A request without a body: hostile cookies, path segments and query strings. */
export function bodilessEndpoint(method: FuzzRequest['method'], url: string, options: { runs?: number; html?: boolean } = {}): FuzzEndpoint {
  return {
    name: `${method} ${url}`,
    runs: options.runs ?? 1000,
    recipes: fc.record({
      cookie: cookieRecipe,
      segment: pathSegment,
      query: fc.option(fc.dictionary(fc.constantFrom('next', 'id', 'a', '__proto__', 'next[]'), nastyString.filter((s) => s.length < 2000)), { nil: null }),
      origin: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: originHeaders }),
    }),
    async build(recipe, ctx) {
      const path = url.replace(':id', recipe.segment).replace(':token', recipe.segment);
      const query = recipe.query ? `?${new URLSearchParams(recipe.query as Record<string, string>).toString()}` : '';
      return { method, url: `${path}${query}`, headers: { ...(await cookieHeader(recipe.cookie, ctx)), ...(recipe.origin ?? { origin: ORIGIN }) } };
    },
  };
}
