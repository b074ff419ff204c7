/**
 * A strict decoder for the CBOR subset WebAuthn uses (CTAP2 canonical encoding, RFC 8949 §4.2):
 * definite lengths only, no tags, map keys that are integers or text and never repeated.
 * Every length is checked against the bytes that remain before anything is allocated, and nesting
 * is bounded, so hostile input costs at most linear time and fails with `CborError`.
 */

export type CborValue = number | bigint | string | boolean | null | undefined | Uint8Array | CborValue[] | CborMap;
export type CborMap = Map<number | string, CborValue>;

export class CborError extends Error {
  override readonly name = 'CborError';
}

const MAX_DEPTH = 16;
// `ignoreBOM: true` keeps a leading U+FEFF as a character. The default would silently drop it, so
// the text strings "\uFEFFfmt" and "fmt" would decode alike (a map key could alias another, or a
// repeated key go unnoticed); RFC 8949 §3.1 makes a text string exactly its UTF-8 code points.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes exactly one item that fills `bytes`; trailing bytes are an error. */
export function decodeCbor(bytes: Uint8Array): CborValue {
  const { value, length } = decodeCborPrefix(bytes);
  if (length !== bytes.byteLength) throw new CborError(`${bytes.byteLength - length} trailing bytes after the CBOR item`);
  return value;
}

/** Decodes the first item of `bytes` and says how many bytes it took. */
export function decodeCborPrefix(bytes: Uint8Array): { value: CborValue; length: number } {
  const reader = new Reader(bytes);
  const value = reader.item(0);
  return { value, length: reader.offset };
}

class Reader {
  offset = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  item(depth: number): CborValue {
    if (depth > MAX_DEPTH) throw new CborError('CBOR nested too deeply');
    const initial = this.byte();
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 7) return this.simple(info);
    const argument = this.argument(info);
    switch (major) {
      case 0:
        return argument;
      case 1:
        return typeof argument === 'bigint' ? -1n - argument : -1 - argument;
      case 2:
        return this.take(this.length(argument)).slice();
      case 3: {
        // Take the bytes outside the try: a length past the end must be reported as such, not as bad UTF-8.
        const text = this.take(this.length(argument));
        try {
          return utf8.decode(text);
        } catch {
          throw new CborError('CBOR text string is not valid UTF-8');
        }
      }
      case 4: {
        const count = this.length(argument);
        const items: CborValue[] = [];
        for (let i = 0; i < count; i++) items.push(this.item(depth + 1));
        return items;
      }
      case 5: {
        const count = this.length(argument);
        const map: CborMap = new Map();
        for (let i = 0; i < count; i++) {
          const key = this.item(depth + 1);
          if (typeof key !== 'number' && typeof key !== 'string') throw new CborError('CBOR map key must be an integer or text');
          if (map.has(key)) throw new CborError(`CBOR map key ${String(key)} repeated`);
          map.set(key, this.item(depth + 1));
        }
        return map;
      }
      default:
        throw new CborError('CBOR tags are not used by WebAuthn');
    }
  }

  private simple(info: number): CborValue {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 26: {
        const value = this.view.getFloat32(this.advance(4));
        return value;
      }
      case 27:
        return this.view.getFloat64(this.advance(8));
      default:
        throw new CborError(`unsupported CBOR simple value ${info}`);
    }
  }

  private argument(info: number): number | bigint {
    if (info < 24) return info;
    switch (info) {
      case 24:
        return this.byte();
      case 25:
        return this.view.getUint16(this.advance(2));
      case 26:
        return this.view.getUint32(this.advance(4));
      case 27: {
        const big = this.view.getBigUint64(this.advance(8));
        return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      default:
        throw new CborError('indefinite or reserved CBOR length');
    }
  }

  /** A count of bytes or items: must fit in what remains (each item takes at least one byte). */
  private length(argument: number | bigint): number {
    if (typeof argument === 'bigint' || argument > this.bytes.byteLength - this.offset) {
      throw new CborError('CBOR length runs past the end of the data');
    }
    return argument;
  }

  private byte(): number {
    return this.bytes[this.advance(1)]!;
  }

  private take(length: number): Uint8Array {
    const start = this.advance(length);
    return this.bytes.subarray(start, start + length);
  }

  private advance(length: number): number {
    const start = this.offset;
    if (start + length > this.bytes.byteLength) throw new CborError('CBOR data is truncated');
    this.offset = start + length;
    return start;
  }
}
