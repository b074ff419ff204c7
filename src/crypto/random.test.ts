import { describe, expect, it } from 'vitest';
import { pooledRandom } from './random.ts';

describe('pooledRandom', () => {
  it('hands out fresh, distinct bytes of the requested length across pool refills', () => {
    const random = pooledRandom(64);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const bytes = random(i % 2 === 0 ? 7 : 32);
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(bytes.byteLength).toBe(i % 2 === 0 ? 7 : 32);
      seen.add(Buffer.from(bytes).toString('hex'));
    }
    expect(seen.size).toBe(200);
  });

  it('returns copies: changing one does not change the next', () => {
    const random = pooledRandom(64);
    const a = random(4);
    a.fill(0);
    expect(Buffer.from(random(4)).equals(Buffer.alloc(4))).toBe(false);
  });
});
