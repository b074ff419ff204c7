import type { TotpParams } from '../../codes/totp.ts';
import type { Role } from '../../core/model.ts';
import { normalisePhone } from '../codes/deliveredBinding.ts';
import { MAX_DISPLAY_NAME, MAX_EMAIL, USERNAME_PATTERN } from '../invitations.ts';
import { hashFamily } from './passwordHash.ts';

/** One account as read from an export, before it is checked. */
export interface RawRecord {
  /** Where it is in the file, for the report: `line 4`, `users[2]`. */
  readonly where: string;
  readonly externalId: string | null;
  readonly username: string;
  readonly email: string | null;
  readonly displayName: string | null;
  readonly role: Role;
  readonly phone: string | null;
  readonly passwordHash: string | null;
  readonly totp: { readonly secret: Uint8Array; readonly params: TotpParams } | null;
}

/** A checked record: every field is what Keybound stores. */
export type ImportRecord = RawRecord;

/** A line of the report about a record that was not imported. */
export interface Problem {
  readonly where: string;
  readonly username: string | null;
  readonly reason: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** The other system's id for the person (Keycloak's user id, a UUID), kept for the report. */
const MAX_EXTERNAL_ID = 255;

/** Checks a record the way `keybound invite` checks its input, and the hash and the seed besides. */
export function checkRecord(raw: RawRecord): ImportRecord | Problem {
  const bad = (reason: string): Problem => ({ where: raw.where, username: raw.username || null, reason });
  const username = raw.username.trim().toLowerCase();
  if (!USERNAME_PATTERN.test(username)) return bad('username: 1-64 characters, lower-case letters, digits, and . _ @ - inside');
  const email = raw.email?.trim() || null;
  if (email !== null && (email.length > MAX_EMAIL || !EMAIL.test(email))) return bad('email: not an address');
  const displayName = raw.displayName?.trim() || null;
  if (displayName !== null && displayName.length > MAX_DISPLAY_NAME) return bad(`display_name: more than ${MAX_DISPLAY_NAME} characters`);
  let phone: string | null = null;
  if (raw.phone?.trim()) {
    phone = normalisePhone(raw.phone);
    if (phone === null) return bad('phone: not an E.164 number (+ and 7-15 digits)');
  }
  if (raw.externalId !== null && raw.externalId.length > MAX_EXTERNAL_ID) return bad(`id: more than ${MAX_EXTERNAL_ID} characters`);
  const passwordHash = raw.passwordHash?.trim() || null;
  if (passwordHash !== null) {
    const family = hashFamily(passwordHash);
    if ('problem' in family) return bad(`password_hash: ${family.problem}`);
  }
  // RFC 4226 §4 R6: at least 128 bits of shared secret.
  if (raw.totp && raw.totp.secret.length < 16) return bad('totp_secret: shorter than 128 bits');
  return { ...raw, username, email, displayName, phone, passwordHash };
}
