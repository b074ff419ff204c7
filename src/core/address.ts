import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a client address counts under in every per-address limit (ceremony rate limit, code
 * throttle, code sends). An IPv4 address is itself. An IPv6 address is its /64: one subscriber is
 * usually handed a whole /64 (RFC 6177, RFC 7421 §1: the interface identifier is the low 64 bits),
 * so keying on the full address would give one client 2^64 budgets. An IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`, RFC 4291 §2.5.5.2, what a dual-stack socket reports) is the IPv4 address it
 * maps, and a zone id (`%eth0`, RFC 6874) is dropped. Anything else (text a proxy wrote) is kept as
 * it is: it is already bounded by `clientAddress`.
 */
export function rateLimitKeyForAddress(address: string): string {
  const bare = address.includes('%') ? address.slice(0, address.indexOf('%')) : address;
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return address;
  const groups = ipv6Groups(bare);
  if (groups === null) return address;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address `isIPv6` accepted (`::` expanded, a dotted IPv4 tail split in two). */
function ipv6Groups(address: string): number[] | null {
  const halves = address.toLowerCase().split('::');
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [parseInt(group, 16)];
          const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const head = parse(halves[0]!);
  const tail = halves.length > 1 ? parse(halves[1]!) : [];
  const groups = halves.length > 1 ? [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail] : head;
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}
