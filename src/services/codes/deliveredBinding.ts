import { deliveredCodeHash, randomDigits } from '../../codes/delivered.ts';
import { FACTOR_KIND, pendingAuthenticator } from '../../codes/factors.ts';
import { fail, ok, type ErrorCode, type Result } from '../../core/errors.ts';
import type { RequestContext } from '../../core/model.ts';
import { codeFactorBindable } from '../../core/policy.ts';
import { hashSecret } from '../../core/tokens.ts';
import type { Deps } from '../deps.ts';
import { codeFactorChanged } from '../../ssf/events.ts';
import { requireFresh } from '../freshness.ts';
import type { ActiveSession } from '../sessions.ts';
import { newAttemptId, newId } from './attempts.ts';
import { checkCode, normaliseCode } from './check.ts';
import { deliverCode, simRecentlyChanged } from './deliver.ts';
import { summariseCodeFactor, type FactorSummary } from './factors.ts';
import { admitGuess, recordCheck, type GuardSubject, addressThrottleKey } from './guard.ts';
import { notifyHolder } from './notify.ts';
import { admitBindingSend } from './sendLimits.ts';
import { guardPathChange } from '../paths/guard.ts';

/** Told to everyone who binds SMS (NIST SP 800-63B-4 §3.1.3.3: offer a non-restricted alternative). */
export const SMS_NOTICE =
  'Text-message codes are a weaker way to sign in: they can be phished, and someone who takes over your phone number (a SIM swap) receives them. A passkey is safer and just as quick; add one on your account page.';
export const EMAIL_NOTICE = 'Email codes are the weakest way to sign in: they can be phished, anyone who can read your mailbox receives them, and NIST does not accept them as an authenticator. Add a passkey instead if you can.';

/** E.164: + and up to 15 digits; spaces, dots, dashes and brackets as typed are dropped. */
export function normalisePhone(input: string): string | null {
  const compact = input.replace(/[\s().-]/g, '');
  return /^\+[1-9][0-9]{6,14}$/.test(compact) ? compact : null;
}

/**
 * Starts binding SMS (a phone number) or email (the account's address) as a code factor. Binding
 * is done from a fresh AAL2 session (a passkey sign-in within the last few minutes): a new phone
 * number is a new authenticator (NIST SP 800-63B-4 §4.1.2). A code is sent to prove the number
 * or mailbox is the holder's; `confirmDeliveredBinding` finishes. Sends are limited per account,
 * per destination and per client address (sendLimits.ts) before anything is sent.
 */
export async function beginDeliveredBinding(
  deps: Deps,
  active: ActiveSession,
  input: { factor: 'sms' | 'email'; phone?: string; context: RequestContext },
): Promise<Result<{ attemptId: string; notice: string }>> {
  const { account } = active;
  const { factor, context } = input;
  const refused = codeFactorBindable(deps.policies[account.role], factor);
  if (refused) return fail(refused);
  const fresh = await requireFresh(deps, active, { minAal: 2 });
  if (!fresh.ok) return fresh;
  // The policy guard (docs/paths.md): refused before any code is sent.
  const weakens = await guardPathChange(deps, account, { kind: 'bind_code_factor', factor });
  if (weakens) return weakens;
  const destination = factor === 'sms' ? normalisePhone(input.phone ?? '') : account.email;
  if (!destination) return fail(factor === 'sms' ? 'phone_invalid' : 'email_missing');
  const admitted = await admitBindingSend(deps, { accountId: account.id, factor, destination, context });
  if (!admitted.ok) return admitted;
  const now = deps.clock();
  const id = newId(deps);
  const attemptId = newAttemptId(deps);
  const code = randomDigits(deps.random, deps.config.codes.digits);
  const sent = await deliverCode(deps, { channel: factor, to: destination, code, purpose: 'bind' });
  if (!sent.ok) {
    await deps.store.audit.append({ type: 'code.delivery', outcome: 'failure', reason: sent.reason, accountId: account.id, context, at: now, details: { factor, purpose: 'bind' } });
    return fail('delivery_failed');
  }
  const refusedReason = factor === 'sms' && simRecentlyChanged(deps, sent.simChangedAt) ? 'sms_sim_changed' : null;
  await deps.store.transaction(async (tx) => {
    await tx.accounts.lock(account.id);
    await tx.authenticators.removePending(account.id, FACTOR_KIND[factor]);
    await tx.authenticators.insert(pendingAuthenticator({ id, accountId: account.id, kind: FACTOR_KIND[factor], now, destination }));
    await tx.codeAttempts.create({
      idHash: hashSecret(attemptId), purpose: 'bind', factor, accountId: account.id, authenticatorId: id, throttleKey: `acct:${account.id}`,
      codeHash: deliveredCodeHash(attemptId, code), refusedReason, createdAt: now, expiresAt: now + deps.config.codes.ttlMs, consumedAt: null,
    });
    await tx.audit.append({ type: 'factor.binding_started', outcome: 'success', accountId: account.id, context, at: now, details: { factor, authenticator: id, ...(refusedReason ? { refused: refusedReason } : {}) } });
  });
  return ok({ attemptId, notice: factor === 'sms' ? SMS_NOTICE : EMAIL_NOTICE });
}

/** Confirms a phone number or mailbox with the code sent to it; the new factor replaces the old one. */
export async function confirmDeliveredBinding(
  deps: Deps,
  active: ActiveSession,
  input: { attemptId: string; code: string; context: RequestContext },
): Promise<Result<FactorSummary>> {
  const { account } = active;
  const { context } = input;
  const now = deps.clock();
  const attempt = await deps.store.codeAttempts.find(hashSecret(input.attemptId));
  if (!attempt || attempt.purpose !== 'bind' || attempt.accountId !== account.id || attempt.consumedAt !== null || attempt.expiresAt <= now) return fail('factor_setup_unknown');
  const pending = attempt.authenticatorId ? await deps.store.authenticators.findById(attempt.authenticatorId) : undefined;
  if (!pending || pending.status !== 'pending') return fail('factor_setup_unknown');
  // Fresh at AAL2 when the binding began (the code then takes a while to arrive), and its passkey still usable.
  const fresh = await requireFresh(deps, active, { minAal: 2, asOf: pending.createdAt });
  if (!fresh.ok) return fresh;
  const factor = attempt.factor as 'sms' | 'email';
  const refused = codeFactorBindable(deps.policies[account.role], factor);
  if (refused) return fail(refused);
  const code = normaliseCode(deps, factor, pending, input.code);
  if (code === null) return fail('code_malformed');
  if (attempt.refusedReason) return fail(attempt.refusedReason as ErrorCode);
  const subject: GuardSubject = { factor, authenticator: pending, throttleKey: attempt.throttleKey, accountId: account.id, context };
  const admitted = await admitGuess(deps, subject);
  if (!admitted.ok) return admitted;
  const check = await checkCode(deps, { factor, authenticator: pending, code, attempt: { id: input.attemptId, codeHash: attempt.codeHash } });
  await recordCheck(deps, subject, { result: check.result, reserved: admitted.value.reserved ?? 0 });
  if (check.result !== 'match') {
    await deps.store.audit.append({ type: 'factor.binding', outcome: 'failure', reason: 'code_invalid', accountId: account.id, context, at: now, details: { factor, authenticator: pending.id, checked: true } });
    return fail('code_invalid');
  }
  const bound = await deps.store.transaction(async (tx) => {
    await tx.accounts.lock(account.id);
    if (!(await tx.codeAttempts.consume(attempt.idHash, now)) || !(await tx.authenticators.bind(pending.id, { now }))) return false;
    await tx.codeThrottles.reset(attempt.throttleKey);
    await codeFactorChanged(deps, tx, { accountId: account.id, kind: FACTOR_KIND[factor], change: 'create', by: 'user', at: now });
    await tx.codeThrottles.forgive(addressThrottleKey(context));
    await tx.audit.append({ type: 'factor.bound', outcome: 'success', accountId: account.id, context, at: now, details: { factor, authenticator: pending.id } });
    return true;
  });
  if (!bound) return fail('code_used');
  await notifyHolder(deps, account, { kind: 'factor_bound', factor }, context);
  const authenticator = await deps.store.authenticators.findById(pending.id);
  return ok(await summariseCodeFactor(deps, authenticator!, account.role));
}
