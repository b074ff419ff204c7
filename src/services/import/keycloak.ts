import { base32Decode } from '../../codes/base32.ts';
import type { OtpAlgorithm } from '../../codes/hotp.ts';
import type { Role } from '../../core/model.ts';
import { keycloakPbkdf2Phc } from './passwordHash.ts';
import type { Problem, RawRecord } from './record.ts';
import { isObject } from '../../core/json.ts';

/**
 * Keycloak's realm export (`kc.sh export`, or the admin console's partial export with users): the
 * `users` array of a realm file, or of a `<realm>-users-<n>.json` file. Per user (README
 * "Importing accounts"):
 * - `username`, `email`, `firstName` + `lastName` as the display name, `id` as the external id;
 * - the role: `admin` when one of `realmRoles`, or the last segment of one of `groups`, is the
 *   configured admin role name (`--admin-role`, default `admin`); every other user is `member`;
 * - the phone from the attribute `phoneNumber` (or `phone_number`, `phone`), stored, never a factor;
 * - a credential of `type` `password` whose `credentialData.algorithm` is `pbkdf2-sha256` or
 *   `pbkdf2-sha512`: `secretData.value` (base64 hash), `secretData.salt` (base64) and
 *   `credentialData.hashIterations`, mapped to a PHC string;
 * - a credential of `type` `otp` with `credentialData.subType` `totp`: the seed is `secretData.value`
 *   as Keycloak keeps it (the UTF-8 bytes of that string are the HMAC key; base32 when
 *   `credentialData.secretEncoding` is `BASE32`), with its `digits`, `period` and `algorithm`.
 * A disabled user, a service account and an HOTP credential are skipped with a reason.
 */
export interface KeycloakOptions {
  readonly adminRole: string;
}

const ALGORITHMS: Record<string, OtpAlgorithm> = { HmacSHA1: 'SHA1', HmacSHA256: 'SHA256', HmacSHA512: 'SHA512' };

export class KeycloakFormatError extends Error {
  override readonly name = 'KeycloakFormatError';
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
/** Keycloak stores `secretData` and `credentialData` as JSON text inside the JSON. */
function inner(v: unknown): Json | null {
  if (isObject(v)) return v;
  if (typeof v !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(v);
    return isObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

export function* readKeycloak(text: string, options: KeycloakOptions): Generator<RawRecord | Problem> {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    throw new KeycloakFormatError('not JSON');
  }
  if (!isObject(root) || !Array.isArray(root.users)) throw new KeycloakFormatError('no "users" array: export the realm with its users (kc.sh export --users realm_file)');
  const users = root.users as unknown[];
  for (let index = 0; index < users.length; index++) {
    const where = `users[${index}]`;
    const user = users[index];
    if (!isObject(user)) {
      yield { where, username: null, reason: 'not an object' };
      continue;
    }
    const username = str(user.username) ?? '';
    const skip = (reason: string): Problem => ({ where, username: username || null, reason });
    if (user.serviceAccountClientId !== undefined) {
      yield skip('a service account of a client: register it as a workload, not a person');
      continue;
    }
    if (user.enabled === false) {
      yield skip('disabled in Keycloak');
      continue;
    }
    const read = readCredentials(user.credentials);
    if ('problem' in read) {
      yield skip(read.problem);
      continue;
    }
    const roles = Array.isArray(user.realmRoles) ? user.realmRoles.filter((r): r is string => typeof r === 'string') : [];
    const groups = Array.isArray(user.groups) ? user.groups.filter((g): g is string => typeof g === 'string').map((g) => g.split('/').filter(Boolean).pop() ?? '') : [];
    const role: Role = roles.includes(options.adminRole) || groups.includes(options.adminRole) ? 'admin' : 'member';
    const attributes = isObject(user.attributes) ? user.attributes : {};
    const attribute = (name: string) => {
      const value = attributes[name];
      return Array.isArray(value) ? str(value[0]) : str(value);
    };
    const name = [str(user.firstName), str(user.lastName)].filter(Boolean).join(' ');
    yield {
      where,
      externalId: str(user.id),
      username,
      email: str(user.email),
      displayName: name || null,
      role,
      phone: attribute('phoneNumber') ?? attribute('phone_number') ?? attribute('phone'),
      passwordHash: read.passwordHash,
      totp: read.totp,
    };
  }
}

function readCredentials(credentials: unknown): { passwordHash: string | null; totp: RawRecord['totp'] } | { problem: string } {
  let passwordHash: string | null = null;
  let totp: RawRecord['totp'] = null;
  for (const credential of Array.isArray(credentials) ? credentials : []) {
    if (!isObject(credential)) return { problem: 'a credential is not an object' };
    const secret = inner(credential.secretData);
    const data = inner(credential.credentialData);
    if (credential.type === 'password') {
      if (!secret || !data) return { problem: 'password credential without secretData and credentialData' };
      const algorithm = str(data.algorithm) ?? '';
      const phc = keycloakPbkdf2Phc({ algorithm, iterations: Number(data.hashIterations), salt: str(secret.salt) ?? '', hash: str(secret.value) ?? '' });
      if (!phc) return { problem: `password credential: algorithm ${algorithm || '(none)'} is not pbkdf2-sha256 or pbkdf2-sha512, or its hash, salt or iterations are unreadable` };
      passwordHash = phc;
    } else if (credential.type === 'otp') {
      if (!secret || !data) return { problem: 'otp credential without secretData and credentialData' };
      if (data.subType !== 'totp') return { problem: `otp credential of subType ${String(data.subType)}: only totp is imported` };
      const value = str(secret.value) ?? '';
      const seed = data.secretEncoding === 'BASE32' ? base32Decode(value) : new TextEncoder().encode(value);
      const algorithm = ALGORITHMS[str(data.algorithm) ?? 'HmacSHA1'];
      const digits = Number(data.digits ?? 6);
      const period = Number(data.period ?? 30);
      if (!seed || seed.length === 0) return { problem: 'otp credential: the secret is unreadable' };
      if (!algorithm || (digits !== 6 && digits !== 8) || !Number.isInteger(period) || period < 15 || period > 60) {
        return { problem: `otp credential: algorithm ${String(data.algorithm)}, ${digits} digits, ${period} s is not supported (HmacSHA1/256/512, 6 or 8 digits, 15-60 s)` };
      }
      totp = { secret: seed, params: { algorithm, digits, period } };
    }
    // Other credential types (webauthn, webauthn-passwordless, ...) are bound to Keycloak's origin
    // and cannot be carried over: the person binds a new passkey.
  }
  return { passwordHash, totp };
}
