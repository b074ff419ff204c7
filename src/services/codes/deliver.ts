import type { Deps } from '../deps.ts';

export type DeliveryResult = { readonly ok: true; readonly simChangedAt: number | null } | { readonly ok: false; readonly reason: string };

/**
 * Sends a code by SMS or email. The text says what the code is for, that it expires, and never to
 * share it; the SMS ends with the origin-bound line `@<rp id> #<code>` (WebOTP), so phones only
 * autofill it on this site.
 */
export async function deliverCode(deps: Deps, input: { channel: 'sms' | 'email'; to: string; code: string; purpose: 'sign_in' | 'bind' | 'recovery' }): Promise<DeliveryResult> {
  const minutes = Math.round(deps.config.codes.ttlMs / 60_000);
  const what = input.purpose === 'recovery' ? `account recovery code for ${deps.config.rpName}` : input.purpose === 'sign_in' ? `sign-in code for ${deps.config.rpName}` : `code to confirm this ${input.channel === 'sms' ? 'phone number' : 'address'} for ${deps.config.rpName}`;
  const warning = 'Never tell it to anyone: we will never ask for it.';
  let result: DeliveryResult;
  if (input.channel === 'sms') {
    if (!deps.sms) return { ok: false, reason: 'sms_off' };
    result = await deps.sms.send(input.to, `Your ${what} is ${input.code}. It expires in ${minutes} minutes. ${warning}\n\n@${deps.config.rpId} #${input.code}`);
  } else {
    if (!deps.mailer) return { ok: false, reason: 'mail_off' };
    const sent = await deps.mailer.send({
      to: input.to,
      subject: `Your ${what}`,
      text: `Your ${what} is:\n\n    ${input.code}\n\nIt expires in ${minutes} minutes and works once. ${warning}\n\nIf you did not ask for it, someone may know your username; you can ignore this message. Passkeys are safer than codes: add one at ${deps.config.publicUrl}/account.`,
    });
    result = sent.ok ? { ok: true, simChangedAt: null } : sent;
  }
  deps.metrics.codeDeliveries.inc({ channel: input.channel, result: result.ok ? 'sent' : result.reason });
  return result;
}

/** Whether the provider's SIM-change signal falls inside the configured window (NIST SP 800-63B-4 §3.1.3.3). */
export function simRecentlyChanged(deps: Deps, simChangedAt: number | null): boolean {
  return simChangedAt !== null && deps.clock() - simChangedAt <= deps.config.sms.simChangeWindowMs;
}
