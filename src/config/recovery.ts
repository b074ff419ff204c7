import type { RecoveryPolicy } from '../core/policy.ts';

type Proof = RecoveryPolicy['proofs'][number];
const PROOFS: readonly Proof[] = ['totp', 'sms', 'email'];

/**
 * Reads `KEYBOUND_<ROLE>_RECOVERY` (README "Recovery"): `off`, `code`, or `code+<factors>`. Unset,
 * it follows the role's lowest sign-in level, as NIST SP 800-63B-4 §4.2.1 does: one saved recovery
 * code for an AAL1 role; a saved code and a second, independent proof (an authenticator app still
 * bound, or a code sent to a verified phone or email address) for an AAL2 role, from the channels
 * this installation can deliver to. Problems are pushed to `problems` (a bad value stops the start).
 */
export function recoveryPolicy(raw: string, role: { key: string; minAal: 1 | 2; sms: boolean; email: boolean }, problems: string[]): RecoveryPolicy {
  const text = raw.trim().toLowerCase();
  const available: Proof[] = ['totp', ...(role.sms ? (['sms'] as const) : []), ...(role.email ? (['email'] as const) : [])];
  if (text === '') return role.minAal === 1 ? { enabled: true, proofs: [] } : { enabled: true, proofs: available };
  if (text === 'off') return { enabled: false, proofs: [] };
  if (text === 'code') return { enabled: true, proofs: [] };
  const match = /^code\+(.+)$/.exec(text);
  const listed = match ? match[1]!.split(',').map((f) => f.trim()).filter((f) => f !== '') : [];
  const unknown = listed.filter((f) => !(PROOFS as readonly string[]).includes(f));
  if (!match || listed.length === 0 || unknown.length > 0) {
    problems.push(`${role.key}=${raw}: expected off, code, or code+ one or more of totp, sms, email (for example code+totp,email)`);
    return { enabled: false, proofs: [] };
  }
  const proofs = [...new Set(listed)] as Proof[];
  if (proofs.includes('sms') && !role.sms) problems.push(`${role.key} takes sms as a second proof, but KEYBOUND_SMS_PROVIDER=none`);
  if (proofs.includes('email') && !role.email) problems.push(`${role.key} takes email as a second proof, but KEYBOUND_SMTP_URL is not set`);
  return { enabled: true, proofs };
}
