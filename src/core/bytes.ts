/** Byte helpers: base64url without padding (RFC 4648 §5), strict on input. */
export const base64url = {
  encode(bytes: Uint8Array): string {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
  },
  /** Decodes strict base64url (no padding, no whitespace); `null` for anything else. */
  decode(text: string): Uint8Array | null {
    if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
    const bytes = Buffer.from(text, 'base64url');
    // Reject non-canonical encodings (stray low bits in the last character).
    if (bytes.toString('base64url') !== text) return null;
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
};

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
