import { describe, expect, it } from 'vitest';
import { rateLimitKeyForAddress } from './address.ts';

describe('finding 12: per-address limits key an IPv6 client on its /64', () => {
  it.each([
    // IPv4 is itself.
    ['192.0.2.1', '192.0.2.1'],
    ['127.0.0.1', '127.0.0.1'],
    // IPv6: the /64, however the address is written.
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:0000:0000:0000:0001', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:0:0:1::', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['fe80::abcd:1%25', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    // IPv4-mapped IPv6 (a dual-stack socket's view of an IPv4 client) is the IPv4 address.
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:203.0.113.9', '203.0.113.9'],
    ['::ffff:c000:201', '192.0.2.1'],
    ['0:0:0:0:0:ffff:192.0.2.1', '192.0.2.1'],
    // Not an address (text a proxy wrote): kept as it is.
    ['unknown', 'unknown'],
    ['', ''],
    ['2001:db8::1::2', '2001:db8::1::2'],
  ])('%s → %s', (address, key) => {
    expect(rateLimitKeyForAddress(address)).toBe(key);
  });

  it('gives two addresses of one /64 one key, and neighbouring /64s two', () => {
    expect(rateLimitKeyForAddress('2001:db8:aa:bb:1:2:3:4')).toBe(rateLimitKeyForAddress('2001:db8:aa:bb::99'));
    expect(rateLimitKeyForAddress('2001:db8:aa:bb::1')).not.toBe(rateLimitKeyForAddress('2001:db8:aa:bc::1'));
  });
});
