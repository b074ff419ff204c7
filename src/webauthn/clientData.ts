import type { ErrorCode } from '../core/errors.ts';

/** The collected client data (WebAuthn §5.8.1) after the checks of §7.1 steps 7-12 / §7.2 steps 11-16. */
export interface ClientData {
  readonly type: string;
  readonly challenge: string;
  readonly origin: string;
  readonly crossOrigin: boolean;
  readonly topOrigin?: string;
}

export interface ClientDataExpectations {
  readonly type: 'webauthn.create' | 'webauthn.get';
  /** Allowed origins, exactly as configured. */
  readonly origins: readonly string[];
  /** Top-level origins allowed to embed the ceremony cross-origin; empty refuses cross-origin use. */
  readonly allowedTopOrigins: readonly string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
export const MAX_CLIENT_DATA_BYTES = 8192;

/** Decodes clientDataJSON; `null` when it is not a JSON object with string type, challenge and origin. */
export function decodeClientData(bytes: Uint8Array): ClientData | null {
  if (bytes.byteLength > MAX_CLIENT_DATA_BYTES) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(bytes));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const record = parsed as Record<string, unknown>;
  const { type, challenge, origin, crossOrigin, topOrigin } = record;
  if (typeof type !== 'string' || typeof challenge !== 'string' || typeof origin !== 'string') return null;
  if (crossOrigin !== undefined && typeof crossOrigin !== 'boolean') return null;
  if (topOrigin !== undefined && typeof topOrigin !== 'string') return null;
  return { type, challenge, origin, crossOrigin: crossOrigin === true, ...(topOrigin !== undefined ? { topOrigin } : {}) };
}

/**
 * The sentence for `passkey_origin_mismatch`: which origin the browser reported, which ones are
 * allowed, and the setting that lists them, since the usual cause is a server reached at an address
 * its configuration does not name (a proxy, another port, 127.0.0.1 for localhost).
 */
export function originMismatchMessage(received: string, allowed: readonly string[]): string {
  const shown = JSON.stringify(received.length > 200 ? `${received.slice(0, 200)}...` : received);
  return `The passkey was used from ${shown}, but this server only accepts ${allowed.join(', ')} (KEYBOUND_ORIGIN). Open the page at an allowed address, or add this origin to KEYBOUND_ORIGIN.`;
}

/** Checks type, origin and cross-origin use. The challenge is checked by whoever holds the ceremony. */
export function checkClientData(data: ClientData, expected: ClientDataExpectations): ErrorCode | null {
  if (data.type !== expected.type) return 'passkey_ceremony_type_mismatch';
  if (!expected.origins.includes(data.origin)) return 'passkey_origin_mismatch';
  // WebAuthn L3 §7.1 step 10 / §7.2 step 14: an RP that is not meant to run in cross-origin frames
  // must refuse crossOrigin=true; one that is must check topOrigin against what it expects.
  if (data.crossOrigin || data.topOrigin !== undefined) {
    if (expected.allowedTopOrigins.length === 0) return 'passkey_cross_origin_not_allowed';
    if (data.topOrigin === undefined || !expected.allowedTopOrigins.includes(data.topOrigin)) return 'passkey_cross_origin_not_allowed';
  }
  return null;
}
