import { isIPv4 } from 'node:net';

/**
 * A tiny writer of MaxMind DB files (https://maxmind.github.io/MaxMind-DB/), enough for tests to
 * build a city database: an IPv6 search tree with 24-bit records (IPv4 networks under ::/96), a
 * data section, and the metadata after the "\xAB\xCD\xEFMaxMind.com" marker. Not for production.
 */

type Value = string | number | boolean | readonly Value[] | { readonly [key: string]: Value };

function control(type: number, size: number): Buffer {
  const extended = type > 7;
  const head = (extended ? 0 : type) << 5;
  let first: number;
  let extra: number[] = [];
  if (size < 29) first = head | size;
  else if (size < 285) (first = head | 29), (extra = [size - 29]);
  else (first = head | 30), (extra = [(size - 285) >> 8, (size - 285) & 0xff]);
  return Buffer.from([first, ...(extended ? [type - 7] : []), ...extra]);
}

function encode(value: Value): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([control(2, bytes.length), bytes]);
  }
  if (typeof value === 'boolean') return control(14, value ? 1 : 0);
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value < 2 ** 32) {
      const bytes: number[] = [];
      for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
      return Buffer.concat([control(6, bytes.length), Buffer.from(bytes)]);
    }
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(value);
    return Buffer.concat([control(3, 8), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map(encode)]);
  const entries = Object.entries(value as Record<string, Value>);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]);
}

interface Node {
  children: [Node | number | null, Node | number | null];
}

/** Bits of an address as a 128-bit IPv6 value (IPv4 under ::/96). */
function bits(address: string): number[] {
  const out: number[] = [];
  if (isIPv4(address)) {
    for (let i = 0; i < 96; i++) out.push(0);
    for (const part of address.split('.')) for (let b = 7; b >= 0; b--) out.push((Number(part) >> b) & 1);
    return out;
  }
  throw new Error('the test writer takes IPv4 networks only');
}

/** Builds a city database: `networks` maps `a.b.c.d/len` to the record the reader returns. */
export function buildCityDb(networks: Readonly<Record<string, Value>>): Buffer {
  const root: Node = { children: [null, null] };
  const data: Buffer[] = [];
  let dataLength = 0;
  for (const [cidr, record] of Object.entries(networks)) {
    const [address, len] = cidr.split('/') as [string, string];
    const path = bits(address).slice(0, 96 + Number(len));
    const offset = dataLength;
    const encoded = encode(record);
    data.push(encoded);
    dataLength += encoded.length;
    let node = root;
    path.forEach((bit, i) => {
      const b = bit as 0 | 1;
      if (i === path.length - 1) node.children[b] = -1 - offset; // negative: a data offset, fixed below
      else {
        const next = node.children[b];
        if (next === null || typeof next === 'number') node.children[b] = { children: [null, null] };
        node = node.children[b] as Node;
      }
    });
  }
  const nodes: Node[] = [];
  const number = new Map<Node, number>();
  const visit = (n: Node) => {
    number.set(n, nodes.length);
    nodes.push(n);
    for (const c of n.children) if (c && typeof c === 'object') visit(c);
  };
  visit(root);
  const count = nodes.length;
  const tree = Buffer.alloc(count * 6);
  nodes.forEach((n, i) => {
    n.children.forEach((c, side) => {
      const value = c === null ? count : typeof c === 'number' ? count + 16 + (-1 - c) : number.get(c)!;
      tree.writeUIntBE(value, i * 6 + side * 3, 3);
    });
  });
  const metadata = encode({
    node_count: count,
    record_size: 24,
    ip_version: 6,
    database_type: 'Keybound-Test-City',
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: 1_700_000_000,
    description: { en: 'Keybound test city database' },
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...data, Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'), metadata]);
}

/** A city record as GeoIP2/GeoLite2 City databases lay it out. */
export function cityRecord(country: string, city: string, lat: number, lon: number): Value {
  return { city: { names: { en: city } }, country: { iso_code: country, names: { en: country } }, location: { latitude: lat, longitude: lon } };
}

/** Networks the tests place: documentation and private ranges in four cities. */
export const TEST_PLACES = {
  '127.0.0.0/8': cityRecord('GB', 'London', 51.5, -0.13),
  '198.51.100.0/24': cityRecord('FR', 'Paris', 48.86, 2.35),
  '203.0.113.0/24': cityRecord('US', 'New York', 40.71, -74.0),
  '192.0.2.0/24': cityRecord('GB', 'Manchester', 53.48, -2.24),
} as const;
