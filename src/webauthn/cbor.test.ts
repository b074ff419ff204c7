import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CborError, decodeCbor, decodeCborPrefix, type CborValue } from './cbor.ts';

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

/** Decoding must fail with a `CborError` whose message mentions `pattern`. */
function refuses(input: Uint8Array, pattern: RegExp): void {
  let thrown: unknown;
  try {
    decodeCbor(input);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `decoding ${Buffer.from(input).toString('hex')} should fail`).toBeInstanceOf(CborError);
  expect((thrown as Error).message).toMatch(pattern);
}

describe('decodeCbor: what WebAuthn uses', () => {
  // Examples from RFC 8949 Appendix A.
  it.each<[string, CborValue]>([
    ['00', 0],
    ['17', 23],
    ['1818', 24],
    ['1903e8', 1000],
    ['1a000f4240', 1000000],
    ['1b000000e8d4a51000', 1000000000000],
    ['20', -1],
    ['3863', -100],
    ['3903e7', -1000],
    ['f4', false],
    ['f5', true],
    ['f6', null],
    ['f7', undefined],
    ['fb3ff199999999999a', 1.1],
    ['fa47c35000', 100000],
    ['60', ''],
    ['6161', 'a'],
    ['6449455446', 'IETF'],
    ['62c3bc', 'ü'],
    ['80', []],
    ['83010203', [1, 2, 3]],
    ['8301820203820405', [1, [2, 3], [4, 5]]],
  ])('decodes %s', (input, value) => {
    expect(decodeCbor(hex(input))).toEqual(value);
  });

  it('decodes integers past 2^53 as bigint, on both sides of zero', () => {
    expect(decodeCbor(hex('1bffffffffffffffff'))).toBe(18446744073709551615n);
    expect(decodeCbor(hex('3bffffffffffffffff'))).toBe(-18446744073709551616n);
    expect(decodeCbor(hex('1b001fffffffffffff'))).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeCbor(hex('1b0020000000000000'))).toBe(2n ** 53n);
  });

  it('decodes byte strings into copies that do not alias the input', () => {
    const input = hex('43010203');
    const value = decodeCbor(input) as Uint8Array;
    expect(value).toEqual(bytes(1, 2, 3));
    input[1] = 0xff;
    expect(value).toEqual(bytes(1, 2, 3));
  });

  it('decodes maps with integer and text keys (a COSE key, an attestation object)', () => {
    const cose = decodeCbor(hex('a401020326200121412a')) as Map<number, CborValue>;
    expect([...cose.entries()]).toEqual([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, bytes(0x2a)],
    ]);
    const object = decodeCbor(hex('a263666d74646e6f6e656761747453746d74a0')) as Map<string, CborValue>;
    expect(object.get('fmt')).toBe('none');
    expect(object.get('attStmt')).toEqual(new Map());
  });

  it('reads a sub-array at a non-zero offset of its buffer', () => {
    const outer = hex('ffff1903e8ff');
    expect(decodeCbor(outer.subarray(2, 5))).toBe(1000);
  });

  it('keeps a leading byte order mark in a text string', () => {
    // Without it "\uFEFFfmt" would read as "fmt" and could stand in for that key.
    expect(decodeCbor(hex('66efbbbf666d74'))).toBe('\uFEFFfmt');
    const map = decodeCbor(hex('a2 63666d7401 66efbbbf666d7402')) as Map<string, CborValue>;
    expect([...map.keys()]).toEqual(['fmt', '\uFEFFfmt']);
  });
});

describe('decodeCbor: what it refuses', () => {
  it('refuses empty input and truncated heads', () => {
    refuses(bytes(), /truncated/);
    refuses(hex('18'), /truncated/);
    refuses(hex('19 03'), /truncated/);
    refuses(hex('1a 0000 00'), /truncated/);
    refuses(hex('1b 0000 0000 0000 00'), /truncated/);
    refuses(hex('fa 0000'), /truncated/);
    refuses(hex('fb 0000 0000 0000'), /truncated/);
  });

  it('refuses truncated contents', () => {
    refuses(hex('43 0102'), /past the end|truncated/);
    refuses(hex('63 6162'), /past the end|truncated/);
    refuses(hex('83 0102'), /past the end/);
    refuses(hex('82 0118'), /truncated/);
    refuses(hex('a2 0102 03'), /truncated/);
    refuses(hex('a1 01'), /truncated/);
  });

  it('refuses lengths that run past the end before allocating anything', () => {
    refuses(hex('5a ffffffff 00'), /past the end/);
    refuses(hex('7a ffffffff 00'), /past the end/);
    refuses(hex('9a ffffffff 00'), /past the end/);
    refuses(hex('ba ffffffff 00'), /past the end/);
    // A count too large for a number is refused as such, not wrapped.
    refuses(hex('5b ffffffffffffffff'), /past the end/);
    refuses(hex('9b 0020000000000000'), /past the end/);
    // Four thousand items announced, none present.
    refuses(hex('99 1000'), /past the end/);
  });

  it('refuses indefinite lengths and the break code', () => {
    refuses(hex('5f 4101 ff'), /indefinite/);
    refuses(hex('7f 6161 ff'), /indefinite/);
    refuses(hex('9f 01 ff'), /indefinite/);
    refuses(hex('bf 0101 ff'), /indefinite/);
    refuses(hex('1f'), /indefinite/);
    refuses(hex('ff'), /simple value 31/);
  });

  it('refuses reserved additional information', () => {
    for (const head of ['1c', '1d', '1e', '5c', '9d', 'be']) refuses(hex(head), /reserved/);
  });

  it('refuses tags', () => {
    refuses(hex('c0 74 323031332d30332d32315432303a30343a30305a'), /tags/);
    refuses(hex('d8 18 45 6449455446'), /tags/);
    refuses(hex('c2 49 010000000000000000'), /tags/);
    refuses(hex('a1 01 c1 1a514b67b0'), /tags/);
  });

  it('refuses simple values other than false, true, null and undefined, and half floats', () => {
    refuses(hex('f0'), /simple value/);
    refuses(hex('f8 ff'), /simple value/);
    refuses(hex('f9 3c00'), /simple value/);
  });

  it('refuses a repeated map key, however it is encoded', () => {
    refuses(hex('a2 0101 0102'), /repeated/);
    refuses(hex('a2 6161 01 6161 02'), /repeated/);
    // 1 and 0x18 0x01 are the same key in a non-minimal encoding.
    refuses(hex('a2 0101 1801 02'), /repeated/);
    refuses(hex('a2 20 01 3800 02'), /repeated/);
  });

  it('refuses map keys that are neither integers nor text', () => {
    refuses(hex('a1 4101 01'), /key/);
    refuses(hex('a1 80 01'), /key/);
    refuses(hex('a1 f5 01'), /key/);
    refuses(hex('a1 1b ffffffffffffffff 01'), /key/);
  });

  it('refuses text that is not UTF-8', () => {
    refuses(hex('62 c328'), /UTF-8/);
    refuses(hex('61 ff'), /UTF-8/);
    refuses(hex('63 eda080'), /UTF-8/); // a lone surrogate
  });

  it('refuses bytes after the item; decodeCborPrefix reports where the item ended', () => {
    refuses(hex('01 02'), /1 trailing bytes/);
    refuses(hex('a0 00 00'), /2 trailing bytes/);
    expect(decodeCborPrefix(hex('a0 0000'))).toEqual({ value: new Map(), length: 1 });
    expect(decodeCborPrefix(hex('43010203 ff'))).toEqual({ value: bytes(1, 2, 3), length: 4 });
  });

  it('bounds nesting at 16 levels below the top, also for maps, and does not overflow the stack', () => {
    const nested = (levels: number, open: number[]): Uint8Array => new Uint8Array([...Array.from({ length: levels }, () => open).flat(), 0x00]);
    expect(() => decodeCbor(nested(16, [0x81]))).not.toThrow();
    refuses(nested(17, [0x81]), /nested too deeply/);
    expect(() => decodeCbor(nested(16, [0xa1, 0x00]))).not.toThrow();
    refuses(nested(17, [0xa1, 0x00]), /nested too deeply/);
    refuses(nested(100_000, [0x81]), /nested too deeply/);
  });

  it('never throws anything but CborError, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        try {
          decodeCbor(input);
        } catch (error) {
          if (!(error instanceof CborError)) throw error;
        }
      }),
      { numRuns: 5000 },
    );
  });
});
