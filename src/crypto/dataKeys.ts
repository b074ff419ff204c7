import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encryption of secrets Keybound must be able to read back (TOTP seeds, signing keys): AES-256-GCM
 * under keys from configuration. Each sealed value names the key id it was sealed with, so keys can
 * rotate: the first key seals, every listed key opens.
 *
 * Sealed format: `v1.<kid>.<iv b64url>.<ciphertext b64url>.<tag b64url>`; `context` is bound as
 * additional authenticated data, so a value cannot be moved to another row or purpose.
 */
export interface DataKey {
  readonly id: string;
  readonly key: Uint8Array;
}

export class DataKeyError extends Error {
  override readonly name = 'DataKeyError';
}

export class DataKeyring {
  private readonly byId: Map<string, Uint8Array>;

  constructor(readonly keys: readonly DataKey[]) {
    if (keys.length === 0) throw new DataKeyError('at least one data key is required');
    for (const k of keys) {
      if (k.key.byteLength !== 32) throw new DataKeyError(`data key ${k.id} must be 32 bytes`);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(k.id)) throw new DataKeyError(`data key id ${k.id} must be 1-32 letters, digits, _ or -`);
    }
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    if (this.byId.size !== keys.length) throw new DataKeyError('data key ids must be unique');
  }

  get currentId(): string {
    return this.keys[0]!.id;
  }

  seal(plaintext: Uint8Array, context: string): string {
    const current = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    return ['v1', current.id, iv.toString('base64url'), body.toString('base64url'), tag.toString('base64url')].join('.');
  }

  open(sealed: string, context: string): Uint8Array {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1') throw new DataKeyError('not a sealed value');
    const key = this.byId.get(parts[1]!);
    if (!key) throw new DataKeyError(`sealed with data key ${parts[1]}, which is not configured`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[2]!, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(parts[4]!, 'base64url'));
      return new Uint8Array(Buffer.concat([decipher.update(Buffer.from(parts[3]!, 'base64url')), decipher.final()]));
    } catch {
      throw new DataKeyError('sealed value failed authentication (wrong key, context or tampered)');
    }
  }

  /** Whether a sealed value uses an older key and should be sealed again. */
  needsReseal(sealed: string): boolean {
    return sealed.split('.')[1] !== this.currentId;
  }
}

/** Parses `kid:base64key,kid2:base64key2` (standard or url-safe base64 of 32 bytes). */
export function parseDataKeys(text: string): DataKey[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const colon = entry.indexOf(':');
      if (colon < 1) throw new DataKeyError('each key is <id>:<base64 of 32 bytes>');
      const id = entry.slice(0, colon);
      // The id is stored beside what the key seals and anchors (audit MACs are `<id>.<mac>`): keep it short.
      if (id.length > 64) throw new DataKeyError(`key id ${id.slice(0, 16)}... is longer than 64 characters`);
      const key = Buffer.from(entry.slice(colon + 1).replace(/-/g, '+').replace(/_/g, '/'), 'base64');
      if (key.byteLength !== 32) throw new DataKeyError(`key ${id} is ${key.byteLength} bytes, not 32`);
      return { id, key: new Uint8Array(key) };
    });
}

export function generateDataKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64url')}`;
}
