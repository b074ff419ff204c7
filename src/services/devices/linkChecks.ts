import type { Aal } from '../../core/assurance/level.ts';
import { fail, type Failure } from '../../core/errors.ts';
import type { Invitation } from '../../core/model.ts';
import type { Store } from '../../store/index.ts';

/**
 * The checks a device link (services/devices/link.ts) adds to an enrolment link's, where enrolment
 * links are looked up (services/invitations.ts) and redeemed (services/passkeys/registration.ts).
 */

/** What a refused device link says, in place of the administrator-link sentences. */
const SENTENCES = {
  enrolment_token_used: 'This device link has already been used. Make a new one on your account page, on a device that is signed in.',
  enrolment_token_expired: 'This device link has expired or was replaced by a newer one. Make a new one on your account page, on a device that is signed in.',
} as const;

export function deviceLinkFailure(code: keyof typeof SENTENCES): Failure {
  return fail(code, { message: SENTENCES[code] });
}

/**
 * Whether a device link may still enrol: the passkey its issuing session signed in with is still
 * active on the account (a passkey since reported lost or flagged vouches for nothing, as in
 * services/freshness.ts). Called when the link is looked up and again in the redeeming transaction.
 */
export async function deviceLinkVouched(store: Store, invitation: Invitation): Promise<Failure | null> {
  if (invitation.kind !== 'device') return null;
  if (!invitation.passkeyId) return deviceLinkFailure('enrolment_token_expired');
  const passkey = await store.passkeys.findById(invitation.passkeyId);
  if (!passkey || passkey.accountId !== invitation.accountId || passkey.status !== 'active') return deviceLinkFailure('enrolment_token_expired');
  return null;
}

/** The level cap of a link: a device link's passkey never above its issuing session's level. */
export function aboveLinkLevel(invitation: Invitation | undefined, aal: Aal): boolean {
  return invitation?.kind === 'device' && invitation.maxAal != null && aal > invitation.maxAal;
}
