import QRCode from 'qrcode';
import { ok, type Result } from '../../core/errors.ts';
import type { Account, Invitation, Passkey, RequestContext } from '../../core/model.ts';
import { hashSecret, newToken } from '../../core/tokens.ts';
import type { Store } from '../../store/index.ts';
import type { Deps } from '../deps.ts';
import { requireFresh } from '../freshness.ts';
import { enrolmentUrl } from '../invitations.ts';
import type { ActiveSession } from '../sessions.ts';
import { announceToHolder, noticeTime } from './announce.ts';

/** How long a device link works: long enough to fetch the other device, short enough to go stale. */
export const DEVICE_LINK_TTL_MS = 10 * 60_000;

export interface DeviceLink {
  /** `<origin>/enrol/<token>`; the token is shown once, only its hash is kept. */
  readonly url: string;
  /** The URL as a QR code, a standalone SVG document rendered here (no script, no canvas). */
  readonly qrSvg: string;
  readonly expiresAt: number;
}

/**
 * Add a device: a single-use enrolment link for another device of the same holder. It is an
 * invitation of kind `device` (one table, and the one atomic consumption of
 * passkeys/registration.ts), capped at the issuing session's level and tied to the passkey that
 * session signed in with. NIST SP 800-63B-4 §4.1.2: binding an additional authenticator needs an
 * authentication at the AAL (or higher) at which the new one will be used, so the passkey it enrols
 * may not reach a higher level than that session did. A new device link ends any earlier unused one.
 */
export async function issueDeviceLink(deps: Deps, active: ActiveSession, context: RequestContext): Promise<Result<DeviceLink>> {
  const fresh = await requireFresh(deps, active);
  if (!fresh.ok) return fresh;
  const { account, session } = active;
  const now = deps.clock();
  const token = newToken(deps.random);
  const invitation: Invitation = {
    id: token.id,
    accountId: account.id,
    secretHash: hashSecret(token.secret),
    createdBy: account.username,
    createdAt: now,
    expiresAt: now + DEVICE_LINK_TTL_MS,
    usedAt: null,
    kind: 'device',
    maxAal: session.aal,
    passkeyId: session.passkeyId,
  };
  await deps.store.transaction(async (tx) => {
    await tx.accounts.lock(account.id);
    await tx.invitations.revokeForAccount(account.id, now, 'device');
    await tx.invitations.create(invitation);
    await tx.audit.append({
      type: 'device_link.issued',
      outcome: 'success',
      accountId: account.id,
      context,
      at: now,
      details: { invitation: invitation.id, expiresAt: invitation.expiresAt, maxAal: session.aal, session: session.id, passkey: session.passkeyId },
    });
  });
  const url = enrolmentUrl(deps.config.publicUrl, token.token);
  const qrSvg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return ok({ url, qrSvg, expiresAt: invitation.expiresAt });
}

/** Audits a device link's redemption, inside the transaction that consumed it. */
export async function auditDeviceLinkRedeemed(tx: Store, invitation: Invitation, passkey: Passkey, context: RequestContext, at: number): Promise<void> {
  await tx.audit.append({
    type: 'device_link.redeemed',
    outcome: 'success',
    accountId: invitation.accountId,
    context,
    at,
    details: { invitation: invitation.id, passkey: passkey.id, issuedWith: invitation.passkeyId, maxAal: invitation.maxAal },
  });
}

/** Tells the holder a device was added through a device link. */
export async function announceDeviceAdded(deps: Deps, account: Account, passkey: Passkey, context: RequestContext): Promise<void> {
  const at = noticeTime(deps.clock());
  await announceToHolder(
    deps,
    account,
    {
      kind: 'passkey_added_by_link',
      subject: 'A device was added to your account',
      text: `A passkey ("${passkey.nickname}") was added to your account at ${at} from ${context.ip}, through a device link made on one of your signed-in devices.\n\nIf this was not you, sign in with another passkey, report this one lost at ${deps.config.publicUrl}/account, and tell your administrator.`,
      short: `Passkey "${passkey.nickname}" added at ${at}. Not you? Report it lost at ${deps.config.publicUrl}/account`,
    },
    context,
  );
}
