import type { Account, Approval, RequestContext } from '../../core/model.ts';
import { formatDuration } from '../../config/duration.ts';
import type { Deps } from '../deps.ts';
import { announceToHolder, noticeTime } from '../devices/announce.ts';

export type RecoveryStep = 'requested' | 'approved' | 'released' | 'cancelled' | 'completed';

/**
 * Tells the holder of an assisted recovery at each step, on every bound channel (DESIGN.md
 * principle 5), always with the way to cancel it: sign in with a passkey at /account. The reason
 * the administrator gave is not repeated (it may name help-desk details); who asked is.
 */
export async function announceRecovery(deps: Deps, account: Account, approval: Approval, step: RecoveryStep, context: RequestContext | null): Promise<void> {
  const cancel = `${deps.config.publicUrl}/account`;
  const at = noticeTime(deps.clock());
  const release = approval.releaseAt === null ? null : noticeTime(approval.releaseAt);
  const delay = formatDuration(deps.config.roles[account.role].recoveryDelayMs);
  const notYou = `If you did not ask for this, sign in with one of your passkeys at ${cancel} and cancel it, then tell your administrator.`;
  const texts: Record<RecoveryStep, { subject: string; text: string; short: string }> = {
    requested: {
      subject: 'An account recovery was requested for your account',
      text: `At ${at}, ${approval.requestedBy} requested an assisted recovery of your account: a new passkey for someone who lost every authenticator.${approval.state === 'approved' ? ` It needs no second approval here and is released at ${release}.` : ` It needs a second administrator's approval, then waits ${delay} before it can be used.`}${approval.revokeExisting ? ' When it is used, your other passkeys and every session will end.' : ''}\n\n${notYou}`,
      short: `Recovery of your account requested. Not you? Cancel at ${cancel}`,
    },
    approved: {
      subject: 'An account recovery for your account was approved',
      text: `At ${at}, ${approval.approvedBy} approved the assisted recovery of your account requested by ${approval.requestedBy}. It is released at ${release}; after that an enrolment link can add a new passkey to your account.\n\n${notYou}`,
      short: `Recovery of your account approved, released ${release}. Not you? Cancel at ${cancel}`,
    },
    released: {
      subject: 'An account recovery for your account is released',
      text: `The assisted recovery of your account (requested by ${approval.requestedBy}, approved by ${approval.approvedBy}) was released at ${release}: ${approval.requestedBy} can now issue a single-use link that adds a new passkey to your account.\n\nUntil that link is used, ${notYou.charAt(0).toLowerCase()}${notYou.slice(1)}`,
      short: `Recovery of your account released. Not you? Cancel at ${cancel}`,
    },
    cancelled: {
      subject: 'An account recovery for your account was cancelled',
      text: `At ${at}, ${approval.cancelledBy ?? 'someone'} cancelled the assisted recovery of your account requested by ${approval.requestedBy}. No link from it works.\n\nIf you did not expect any of this, tell your administrator.`,
      short: `Recovery of your account cancelled.`,
    },
    completed: {
      subject: 'Your account was recovered with a new passkey',
      text: `At ${at}${context ? ` from ${context.ip}` : ''}, a new passkey was added to your account through the assisted recovery requested by ${approval.requestedBy} and approved by ${approval.approvedBy}.${approval.revokeExisting ? ' Your other passkeys and every session were ended.' : ''}\n\nIf this was not you, tell your administrator at once.`,
      short: `Your account was recovered with a new passkey. Not you? Tell your administrator.`,
    },
  };
  await announceToHolder(deps, account, { kind: `assisted_recovery_${step}`, ...texts[step] }, context);
}
