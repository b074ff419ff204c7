import { retryAfterSeconds } from '../../codes/throttle.ts';
import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import type { Account, RequestContext } from '../../core/model.ts';
import { accountThrottleKey } from '../codes/attempts.ts';
import { checkCode, normaliseCode } from '../codes/check.ts';
import { addressThrottleKey, admitGuess, recordCheck, type GuardSubject } from '../codes/guard.ts';
import type { Deps } from '../deps.ts';
import { announceToHolder, noticeTime } from '../devices/announce.ts';
import { DUMMY_HASH, verifyPassword } from '../import/passwordHash.ts';
import { completeSignIn, recordSignInFailure, type SignedIn } from '../signIn.ts';
import { anyMigrationOpen, migrationClosed } from './window.ts';

/**
 * The migration sign-in (README "Importing accounts"): an imported account, still `invited`, signs
 * in with the password it had in the old system (and a code of the TOTP seed imported with it, if
 * there was one) while its role's `KEYBOUND_<ROLE>_MIGRATION_UNTIL` has not passed. What it gets is
 * a *migration session*, modelled on the recovery session: 15 minutes, AAL1, admitted only by the
 * routes declared `recovery` (http/gates.ts `admit`), whose one power is to bind a passkey. Binding
 * it signs in with the passkey and deletes the password hash (bind.ts, retire.ts).
 *
 * Every guess passes the code limits first (guard.ts): an increasing delay per client address and
 * per account (or, for an unknown username, per keyed username tag), so guessing is as slow here as
 * for codes. Every request verifies one hash, the account's or a dummy one of the same cost, so an
 * unknown username, an account without a password and a wrong password answer alike, in about the
 * same time. The password is never logged, audited or returned.
 */
export async function migrationSignIn(
  deps: Deps,
  input: { username: string; password: string; code?: string | undefined; context: RequestContext; presentedSessionId?: string | null },
): Promise<Result<SignedIn>> {
  const { context } = input;
  const method = 'migration_password' as const;
  // After every role's date, nobody is asked for anything: the path is closed.
  if (!anyMigrationOpen(deps)) return recordSignInFailure(deps, fail('migration_closed'), { method, context });
  const now = deps.clock();
  const username = input.username.trim().toLowerCase();
  const account = await deps.store.accounts.findByUsername(username);
  const throttleKey = accountThrottleKey(deps, account, username);
  for (const key of [addressThrottleKey(context), throttleKey]) {
    const admission = await deps.store.codeThrottles.admit(key, now, deps.config.codes.throttle);
    if (!admission.admitted) return fail('code_throttled', { retryAfter: retryAfterSeconds(admission.blockedUntil, now) });
  }
  const imported = account ? await deps.store.imports.find(account.id) : undefined;
  const hash = imported?.passwordHash ?? null;
  const matched = await verifyPassword(hash ?? DUMMY_HASH, input.password);
  const refuse = (failure: Failure, reason: string) => recordSignInFailure(deps, failure, { method, accountId: account?.id ?? null, context, details: { reason } });
  if (!account || hash === null || !matched) return refuse(fail('migration_credentials_invalid'), !account ? 'unknown_username' : hash === null ? 'no_password' : 'password_mismatch');
  if (account.status !== 'invited') return refuse(fail('migration_credentials_invalid'), `account_${account.status}`);
  // Said only to whoever knows the password: the date of one role is not told to strangers.
  const closed = migrationClosed(deps, account.role);
  if (closed) return refuse(closed, 'window_closed');

  const totp = await deps.store.authenticators.findBound(account.id, 'totp');
  let step: number | undefined;
  if (totp) {
    if (!input.code) return refuse(fail('migration_code_required'), 'code_missing');
    const code = normaliseCode(deps, 'totp', totp, input.code);
    if (code === null) return refuse(fail('code_malformed'), 'code_malformed');
    const subject: GuardSubject = { factor: 'totp', authenticator: totp, throttleKey, accountId: account.id, context };
    const admitted = await admitGuess(deps, subject);
    if (!admitted.ok) return refuse(admitted, admitted.code);
    const check = await checkCode(deps, { factor: 'totp', authenticator: totp, code });
    await recordCheck(deps, subject, { result: check.result, reserved: admitted.value.reserved ?? 0 });
    if (check.result !== 'match') return refuse(fail('code_invalid'), `code_${check.result}`);
    step = check.step;
  }

  const signedIn = await completeSignIn(deps, {
    account,
    method,
    purpose: 'migration',
    factors: totp ? [{ kind: 'totp' }] : [],
    passkeyId: null,
    context,
    presentedSessionId: input.presentedSessionId ?? null,
    details: { source: imported!.source, totp: totp?.id ?? null },
    commit: async (tx) => {
      // The password is still there (no passkey was bound meanwhile), and the TOTP step is used once.
      if (!(await tx.imports.find(account.id))?.passwordHash) return fail('migration_credentials_invalid');
      if (totp && !(await tx.authenticators.recordUse(totp.id, { now, ...(step !== undefined ? { step } : {}) }))) return fail('code_invalid');
      await tx.codeThrottles.reset(throttleKey);
      await tx.codeThrottles.forgive(addressThrottleKey(context));
      await tx.audit.append({ type: 'migration.session_started', outcome: 'success', accountId: account.id, context, at: now, details: { totp: totp !== undefined } });
      return null;
    },
  });
  if (!signedIn.ok) return signedIn;
  deps.log.warn({ event: 'migration.session_started', account: account.id, ip: context.ip }, 'security event: an imported account signed in with its old password to bind a passkey');
  await announceToHolder(deps, account, startedNotice(deps, account, context), context);
  return ok(signedIn.value);
}

function startedNotice(deps: Deps, account: Account, context: RequestContext) {
  const when = noticeTime(deps.clock());
  return {
    kind: 'migration_started',
    subject: 'Your old password was used to move your account to a passkey',
    text:
      `Your old password was used at ${when} from ${context.ip} to start adding a passkey to the account ${account.username}.\n\n` +
      `If this was you, add the passkey now. If it was not, tell your administrator at once: someone knows your old password.`,
    short: `Your old password was used at ${when} to start adding a passkey. If this was not you, tell your administrator.`,
  };
}
