import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checksumOf, crc32, findApiKeys, newApiKey, parseApiKey } from './apiKeyFormat.ts';

const random = (n: number) => new Uint8Array(randomBytes(n));

describe('API key format', () => {
  it('makes kb_<env>_<30 base62>_<6 base62> keys whose checksum validates offline', () => {
    const key = newApiKey(random, 'live');
    expect(key).toMatch(/^kb_live_[0-9A-Za-z]{30}_[0-9A-Za-z]{6}$/);
    expect(parseApiKey(key)).toMatchObject({ env: 'live' });
    expect(newApiKey(random, 'test')).toMatch(/^kb_test_/);
  });

  it('uses CRC-32 as zlib computes it (any scanner can reimplement the check)', () => {
    for (const text of ['', 'kb_live_abc', 'The quick brown fox']) expect(crc32(text)).toBe(zlibCrc32(text));
  });

  it('refuses a random look-alike, a changed character, a wrong checksum and the wrong shape', () => {
    const key = newApiKey(random, 'live');
    const lookAlikes = Array.from({ length: 200 }, () => {
      const body = `kb_live_${randomBytes(40).toString('base64').replace(/[^0-9A-Za-z]/g, '').slice(0, 30)}`;
      return `${body}_${randomBytes(8).toString('base64').replace(/[^0-9A-Za-z]/g, '').padEnd(6, 'A').slice(0, 6)}`;
    });
    expect(lookAlikes.filter((k) => /^kb_live_[0-9A-Za-z]{30}_[0-9A-Za-z]{6}$/.test(k) && parseApiKey(k) !== null)).toEqual([]);
    const flipped = `${key.slice(0, 10)}${key[10] === 'a' ? 'b' : 'a'}${key.slice(11)}`;
    expect(parseApiKey(flipped)).toBeNull();
    const body = key.slice(0, key.lastIndexOf('_'));
    expect(parseApiKey(`${body}_${checksumOf(body) === 'AAAAAA' ? 'AAAAAB' : 'AAAAAA'}`)).toBeNull();
    expect(parseApiKey(`${key}x`)).toBeNull();
    expect(parseApiKey(key.replace('kb_', 'kc_'))).toBeNull();
    expect(parseApiKey(key.replace('_live_', '_LIVE_'))).toBeNull();
  });

  it('draws characters uniformly: every base62 digit turns up, with no byte-modulo bias towards the first ones', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) for (const c of newApiKey(random, 'live').split('_')[2]!) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // 12,000 draws, 193.5 expected per digit; a modulo of 256 would give the first 8 digits 25 % more.
    const firstEight = [...'01234567'].reduce((n, c) => n + (counts.get(c) ?? 0), 0) / 8;
    const rest = [...counts.entries()].filter(([c]) => !'01234567'.includes(c)).reduce((n, [, v]) => n + v, 0) / 54;
    expect(firstEight / rest).toBeLessThan(1.15);
  });

  it('finds keys in text by format and checksum, and skips look-alikes and keys glued to other words', () => {
    const key = newApiKey(random, 'live');
    const bad = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    const text = `token=${key}\nfake=${bad}\nglued=x${key}\n"${key}"`;
    expect(findApiKeys(text).map((f) => f.key)).toEqual([key, key]);
  });
});
