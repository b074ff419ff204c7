/**
 * fast-check generators for hostile input: JSON with wrong types, deep nesting and huge strings;
 * byte mutations; raw CBOR items, valid or not (truncated, oversized lengths, tags, indefinite
 * lengths, deep nesting); COSE keys with invalid parameters and EC points off the curve.
 */
import fc from 'fast-check';

// ---------------------------------------------------------------- JSON

/** Strings meant to break things: empty, huge, control characters, lone surrogates, look-alikes, injections. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '\udfff', '\ufeff', '\u202e', '../../etc/passwd', '%00', '<script>alert(1)</script>', "' or 1=1 --", '${7*7}', '__proto__', 'constructor', 'null', 'undefined', 'NaN', '-0', '1e309', 'ＡＤＭＩＮ', 'admin\u0000', 'AAAA'),
  fc.integer({ min: 1, max: 70_000 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 1, max: 3_000 }).map((n) => 'é\u0301😀'.repeat(n)),
  fc.base64String({ maxLength: 200 }),
);

/** Any JSON value, including nasty strings and numbers outside every sensible range. */
export const anyJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), Number.MAX_VALUE, Number.MIN_VALUE),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    nastyString,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(nastyString.filter((k) => k.length < 100), fc.constantFrom('__proto__', 'constructor', 'prototype', 'response', 'id', 'type')), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** JSON text that JSON.stringify cannot produce: deep nesting, duplicate keys, odd numbers and escapes, BOMs. */
export const rawJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 1, max: 30_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 1, max: 10_000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
  fc.integer({ min: 1, max: 5_000 }).map((n) => `{"response":${'['.repeat(n)}${']'.repeat(n)}}`),
  fc.integer({ min: 1, max: 2_000 }).map((n) => `{"__proto__":${'{"__proto__":'.repeat(n)}{}${'}'.repeat(n)}}`),
  fc.constantFrom(
    '{"username":"a","username":"b"}',
    '{"response":{"id":"a","id":"b"}}',
    '{"__proto__":{"isAdmin":true}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '{"enrolmentToken":1e999}',
    '{"username":"\\ud800"}',
    '{"username":"\\u0000"}',
    '\ufeff{}',
    '{}garbage',
    '{"a":1,}',
    "{'a':1}",
    'NaN',
    '-',
    '"',
    '{"a":"\\x41"}',
    '[]',
    'null',
    '0',
    '"string"',
    '{"response":null}',
    '{"response":{"response":{"response":{}}}}',
  ),
  fc.string({ maxLength: 300 }),
);

/** `arbitrary` in `percent` % of cases, `null` otherwise (fc.option's `freq` counts the other way). */
export function sometimes<T>(arbitrary: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(null) }, { weight: percent, arbitrary });
}

// ---------------------------------------------------------------- bytes

/** A mutation of a byte string, applied with `mutateBytes`. */
export type ByteMutation =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'append'; readonly bytes: Uint8Array }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'set'; readonly at: number; readonly value: number }
  | { readonly op: 'replace'; readonly bytes: Uint8Array }
  | { readonly op: 'repeat'; readonly times: number };

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0xff, 0x7f, 0x80, 0x9f, 0xbf, 0xff, 0x5b, 0x7b, 0x9b, 0xbb, 0x1b, 0x18, 0xf7) }),
  fc.record({ op: fc.constant('replace' as const), bytes: fc.uint8Array({ maxLength: 512 }) }),
  fc.record({ op: fc.constant('repeat' as const), times: fc.integer({ min: 2, max: 40 }) }),
);

export function mutateBytes(bytes: Uint8Array, m: ByteMutation): Uint8Array {
  const at = (n: number) => (bytes.length === 0 ? 0 : n % (bytes.length + 1));
  switch (m.op) {
    case 'flip': {
      const out = bytes.slice();
      if (out.length > 0) out[m.at % out.length]! ^= 1 << m.bit;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, at(m.at));
    case 'append':
      return concat(bytes, m.bytes);
    case 'insert':
      return concat(bytes.slice(0, at(m.at)), m.bytes, bytes.slice(at(m.at)));
    case 'set': {
      const out = bytes.slice();
      if (out.length > 0) out[m.at % out.length] = m.value;
      return out;
    }
    case 'replace':
      return m.bytes;
    case 'repeat':
      return concat(...Array.from({ length: m.times }, () => bytes));
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

// ---------------------------------------------------------------- CBOR

/** A CBOR head: major type and argument, in the shortest form or a chosen longer one. */
export function cborHead(major: number, value: number | bigint, width?: 0 | 1 | 2 | 4 | 8): Uint8Array {
  const v = BigInt(value);
  const w = width ?? (v < 24n ? 0 : v < 0x100n ? 1 : v < 0x10000n ? 2 : v < 0x100000000n ? 4 : 8);
  if (w === 0) return Uint8Array.of((major << 5) | Number(v));
  const info = w === 1 ? 24 : w === 2 ? 25 : w === 4 ? 26 : 27;
  const out = new Uint8Array(1 + w);
  out[0] = (major << 5) | info;
  for (let i = 0; i < w; i++) out[w - i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

const text = (s: string) => new TextEncoder().encode(s);

/** Encodes a plain value as canonical CBOR (integers, text, bytes, arrays, maps with int or text keys). */
export type CborPlain = number | string | boolean | null | Uint8Array | CborPlain[] | Map<number | string, CborPlain>;
export function encodeCbor(value: CborPlain): Uint8Array {
  if (typeof value === 'number') return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = text(value);
    return concat(cborHead(3, bytes.length), bytes);
  }
  if (typeof value === 'boolean') return Uint8Array.of(value ? 0xf5 : 0xf4);
  if (value === null) return Uint8Array.of(0xf6);
  if (value instanceof Uint8Array) return concat(cborHead(2, value.length), value);
  if (Array.isArray(value)) return concat(cborHead(4, value.length), ...value.map(encodeCbor));
  return concat(cborHead(5, value.size), ...[...value].flatMap(([k, v]) => [encodeCbor(k), encodeCbor(v)]));
}

/**
 * Raw CBOR items, many of them invalid for WebAuthn's strict subset: floats and half floats, tags,
 * indefinite lengths and stray breaks, reserved additional information, non-shortest heads,
 * lengths far past the data, 64-bit integers, repeated map keys, invalid UTF-8.
 */
export const cborItem: fc.Arbitrary<Uint8Array> = fc.letrec<{ item: Uint8Array }>((tie) => ({
  item: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer().map((n) => (n >= 0 ? cborHead(0, n) : cborHead(1, -1 - n))),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => cborHead(fc.sample(fc.constantFrom(0, 1), 1)[0]!, n, 8)),
    fc.uint8Array({ maxLength: 80 }).map((b) => concat(cborHead(2, b.length), b)),
    fc.string({ maxLength: 40 }).map((s) => encodeCbor(s)),
    fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => concat(cborHead(3, b.length), b)), // maybe invalid UTF-8
    fc.constantFrom(
      Uint8Array.of(0xf4), Uint8Array.of(0xf5), Uint8Array.of(0xf6), Uint8Array.of(0xf7), // simple values
      Uint8Array.of(0xf9, 0x7c, 0x00), // half float infinity
      Uint8Array.of(0xfa, 0x7f, 0xc0, 0x00, 0x00), // float NaN
      Uint8Array.of(0xfb, 0, 0, 0, 0, 0, 0, 0, 0), // double 0
      Uint8Array.of(0xf8, 0x20), // simple(32)
      Uint8Array.of(0xff), // stray break
      Uint8Array.of(0x1c), Uint8Array.of(0x3d), Uint8Array.of(0x5e), Uint8Array.of(0xfc), // reserved info
      Uint8Array.of(0x5f, 0x41, 0x00, 0xff), // indefinite bytes
      Uint8Array.of(0x9f, 0x01, 0xff), // indefinite array
      Uint8Array.of(0xbf, 0x01, 0x02, 0xff), // indefinite map
      Uint8Array.of(0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), // 2^64-1 byte string
      Uint8Array.of(0x5a, 0xff, 0xff, 0xff, 0xff), // 4 GiB byte string
      Uint8Array.of(0x9b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00), // 2^32 items
      Uint8Array.of(0xba, 0x7f, 0xff, 0xff, 0xff), // 2^31 map entries
      Uint8Array.of(0x18, 0x01), // non-shortest 1
      Uint8Array.of(0xa2, 0x01, 0x01, 0x01, 0x02), // repeated key
      Uint8Array.of(0xa1, 0x40, 0x01), // byte-string key
      Uint8Array.of(0xa1, 0xf6, 0x01), // null key
    ),
    fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), tie('item')).map(([tag, inner]) => concat(cborHead(6, tag), inner)),
    fc.array(tie('item'), { maxLength: 6 }).map((items) => concat(cborHead(4, items.length), ...items)),
    fc.array(fc.tuple(tie('item'), tie('item')), { maxLength: 5 }).map((entries) => concat(cborHead(5, entries.length), ...entries.flat())),
    fc.array(fc.tuple(fc.oneof(fc.integer({ min: -10, max: 10 }), fc.constantFrom('fmt', 'attStmt', 'authData', 'alg', 'sig', 'x5c')), tie('item')), { maxLength: 5 }).map((entries) =>
      concat(cborHead(5, entries.length), ...entries.flatMap(([k, v]) => [encodeCbor(k), v])),
    ),
  ),
})).item;

/** Deeply nested CBOR: arrays or maps inside each other, far past any sane depth. */
export const nestedCbor: fc.Arbitrary<Uint8Array> = fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean()).map(([depth, maps]) => {
  const out = new Uint8Array(depth * (maps ? 2 : 1) + 1);
  for (let i = 0; i < depth; i++) {
    if (maps) {
      out[2 * i] = 0xa1;
      out[2 * i + 1] = 0x01;
    } else out[i] = 0x81;
  }
  out[out.length - 1] = 0xf6;
  return out;
});

// ---------------------------------------------------------------- COSE keys

/** COSE keys with every parameter possibly wrong: alg, kty, curve, coordinate sizes, points off the curve, RSA sizes. */
export const hostileCoseKey: fc.Arbitrary<Uint8Array> = fc.oneof(
  // EC2 with random coordinates: almost never a point on the curve.
  fc.record({
    alg: fc.constantFrom(-7, -35, -36, -9, -8, -257, 0, 1, -65536),
    crv: fc.constantFrom(1, 2, 3, 0, 4, 6, -1),
    x: fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 70 })),
    y: fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 70 }), fc.constant(new Uint8Array(32))),
  }).map(({ alg, crv, x, y }) => encodeCbor(new Map<number, CborPlain>([[1, 2], [3, alg], [-1, crv], [-2, x], [-3, y]]))),
  // The point at infinity and coordinates equal to the field prime.
  fc.constantFrom(new Uint8Array(32), Uint8Array.from(Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex'))).map((x) =>
    encodeCbor(new Map<number, CborPlain>([[1, 2], [3, -7], [-1, 1], [-2, x], [-3, x]])),
  ),
  // OKP with wrong sizes or curves.
  fc.record({ crv: fc.constantFrom(6, 7, 1, 99), x: fc.uint8Array({ maxLength: 64 }) }).map(({ crv, x }) => encodeCbor(new Map<number, CborPlain>([[1, 1], [3, -8], [-1, crv], [-2, x]]))),
  // RSA with moduli from empty to huge, exponents from empty to absurd.
  fc.record({ n: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 256, max: 2048 }).map((len) => Uint8Array.from({ length: len }, (_, i) => (i === 0 ? 0xc1 : (i * 131) & 0xff)))), e: fc.uint8Array({ maxLength: 8 }) }).map(
    ({ n, e }) => encodeCbor(new Map<number, CborPlain>([[1, 3], [3, -257], [-1, n], [-2, e]])),
  ),
  // Missing and mistyped parameters.
  fc.dictionary(fc.integer({ min: -4, max: 4 }).map(String), fc.oneof(fc.integer(), fc.uint8Array({ maxLength: 40 }), fc.string({ maxLength: 8 })), { maxKeys: 6 }).map((d) =>
    encodeCbor(new Map<number, CborPlain>(Object.entries(d).map(([k, v]) => [Number(k), v as CborPlain]))),
  ),
  cborItem,
);
