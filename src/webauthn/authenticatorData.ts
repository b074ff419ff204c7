import { decodeCbor, decodeCborPrefix, CborError, type CborMap } from './cbor.ts';

/** Authenticator data (WebAuthn §6.1), parsed strictly: every byte is accounted for. */
export interface AuthenticatorData {
  readonly rpIdHash: Uint8Array;
  readonly flags: {
    /** UP: user present. */
    readonly up: boolean;
    /** UV: user verified (PIN, biometric). */
    readonly uv: boolean;
    /** BE: backup eligible, the credential may be synced. */
    readonly be: boolean;
    /** BS: backed up, the credential is currently synced. */
    readonly bs: boolean;
    readonly at: boolean;
    readonly ed: boolean;
  };
  readonly signCount: number;
  readonly attestedCredential?: {
    readonly aaguid: Uint8Array;
    readonly credentialId: Uint8Array;
    readonly publicKey: Uint8Array;
    readonly publicKeyMap: CborMap;
  };
  readonly extensions?: CborMap;
}

export class AuthenticatorDataError extends Error {
  override readonly name = 'AuthenticatorDataError';
}

/** WebAuthn §5.8.3: credential ids are at most 1023 bytes. */
export const MAX_CREDENTIAL_ID_BYTES = 1023;

export function parseAuthenticatorData(bytes: Uint8Array): AuthenticatorData {
  if (bytes.byteLength < 37) throw new AuthenticatorDataError('authenticator data shorter than 37 bytes');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flagsByte = bytes[32]!;
  const flags = {
    up: (flagsByte & 0x01) !== 0,
    uv: (flagsByte & 0x04) !== 0,
    be: (flagsByte & 0x08) !== 0,
    bs: (flagsByte & 0x10) !== 0,
    at: (flagsByte & 0x40) !== 0,
    ed: (flagsByte & 0x80) !== 0,
  };
  // §6.1.3: BS may be set only when BE is set.
  if (flags.bs && !flags.be) throw new AuthenticatorDataError('backup state set on a credential that is not backup eligible');
  let offset = 37;
  let attestedCredential: AuthenticatorData['attestedCredential'];
  if (flags.at) {
    if (bytes.byteLength < offset + 18) throw new AuthenticatorDataError('attested credential data truncated');
    const aaguid = bytes.slice(offset, offset + 16);
    const idLength = view.getUint16(offset + 16);
    offset += 18;
    if (idLength > MAX_CREDENTIAL_ID_BYTES) throw new AuthenticatorDataError(`credential id of ${idLength} bytes exceeds 1023`);
    if (idLength === 0) throw new AuthenticatorDataError('empty credential id');
    if (bytes.byteLength < offset + idLength) throw new AuthenticatorDataError('credential id truncated');
    const credentialId = bytes.slice(offset, offset + idLength);
    offset += idLength;
    let key;
    try {
      key = decodeCborPrefix(bytes.subarray(offset));
    } catch (error) {
      throw new AuthenticatorDataError(`credential public key: ${(error as Error).message}`);
    }
    if (!(key.value instanceof Map)) throw new AuthenticatorDataError('credential public key is not a CBOR map');
    const publicKey = bytes.slice(offset, offset + key.length);
    offset += key.length;
    attestedCredential = { aaguid, credentialId, publicKey, publicKeyMap: key.value };
  }
  let extensions: CborMap | undefined;
  if (flags.ed) {
    let value;
    try {
      value = decodeCbor(bytes.subarray(offset));
    } catch (error) {
      throw new AuthenticatorDataError(`extensions: ${error instanceof CborError ? error.message : 'unreadable'}`);
    }
    if (!(value instanceof Map)) throw new AuthenticatorDataError('extensions are not a CBOR map');
    extensions = value;
    offset = bytes.byteLength;
  }
  if (offset !== bytes.byteLength) throw new AuthenticatorDataError(`${bytes.byteLength - offset} unexpected trailing bytes in authenticator data`);
  return {
    rpIdHash: bytes.subarray(0, 32),
    flags,
    signCount: view.getUint32(33),
    ...(attestedCredential ? { attestedCredential } : {}),
    ...(extensions ? { extensions } : {}),
  };
}

export function formatAaguid(aaguid: Uint8Array): string {
  const hex = Buffer.from(aaguid).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
