import { createHmac } from 'node:crypto';
import { rateLimitKeyForAddress } from '../../core/address.ts';
import { fail, ok, type Result } from '../../core/errors.ts';
import type { RequestContext } from '../../core/model.ts';
import type { Deps } from '../deps.ts';
import { checkRateLimit } from '../rateLimit.ts';

/**
 * Limits on the codes sent to bind a phone number or mailbox, within `KEYBOUND_CODE_TTL`, kept in
 * the same database counters as sign-in sends: per account and per destination
 * (`KEYBOUND_CODE_MAX_SENDS`), and per client address (`KEYBOUND_CODE_MAX_SENDS_PER_ADDRESS`, an
 * IPv6 client's /64). Without them one fresh session could text any number of numbers (message
 * flooding, SMS pumping), and many sessions one number. The destination is keyed by a keyed hash,
 * so the counters hold no phone numbers or addresses.
 */
export async function admitBindingSend(
  deps: Deps,
  input: { accountId: string; factor: 'sms' | 'email'; destination: string; context: RequestContext },
): Promise<Result<null>> {
  const { maxSends, maxSendsPerAddress, ttlMs } = deps.config.codes;
  const limits: [string, number][] = [
    [`code-send:bind:acct:${input.accountId}`, maxSends],
    [`code-send:bind:${input.factor}:to:${destinationTag(deps, input.destination)}`, maxSends],
    [`code-send:bind:addr:${rateLimitKeyForAddress(input.context.ip)}`, maxSendsPerAddress],
  ];
  for (const [key, max] of limits) {
    const limited = await checkRateLimit(deps, key, { max, windowMs: ttlMs });
    if (!limited.ok) return fail('code_send_limit', limited.retryAfter !== undefined ? { retryAfter: limited.retryAfter } : {});
  }
  return ok(null);
}

function destinationTag(deps: Deps, destination: string): string {
  return createHmac('sha256', deps.installSecret).update(`code-destination:${destination.toLowerCase()}`).digest('base64url').slice(0, 22);
}
