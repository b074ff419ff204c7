import { pendingAuthenticator } from '../../codes/factors.ts';
import QRCode from 'qrcode';
import { otpauthUri } from '../../codes/totp.ts';
import { fail, ok, type Result } from '../../core/errors.ts';
import type { RequestContext } from '../../core/model.ts';
import { codeFactorBindable } from '../../core/policy.ts';
import type { Deps } from '../deps.ts';
import { codeFactorChanged } from '../../ssf/events.ts';
import { requireFresh } from '../freshness.ts';
import type { ActiveSession } from '../sessions.ts';
import { newId } from './attempts.ts';
import { checkCode, normaliseCode, totpSealContext } from './check.ts';
import { summariseCodeFactor, type FactorSummary } from './factors.ts';
import { admitGuess, recordCheck, type GuardSubject, addressThrottleKey } from './guard.ts';
import { notifyHolder } from './notify.ts';
import { guardPathChange } from '../paths/guard.ts';

/** RFC 4226 §4 R6: the shared secret should be 160 bits. */
const SEED_BYTES = 20;

/**
 * Starts binding an authenticator app: only from a session signed in with a passkey no older than
 * `KEYBOUND_FRESH_AUTH_MAX_AGE`, only for roles that allow TOTP. The seed is sealed (AES-256-GCM,
 * bound to the authenticator's id) before it is stored; the `otpauth://` URI and its QR code are the
 * only time it leaves the server. It is not usable until confirmed with a first code.
 */
export async function beginTotpEnrolment(deps: Deps, active: ActiveSession, context: RequestContext): Promise<Result<{ otpauthUri: string; qrSvg: string }>> {
  const { account } = active;
  const refused = codeFactorBindable(deps.policies[account.role], 'totp');
  if (refused) return fail(refused);
  const fresh = await requireFresh(deps, active);
  if (!fresh.ok) return fresh;
  // The policy guard (docs/paths.md): refused before a seed exists, so none is ever shown.
  const weakens = await guardPathChange(deps, account, { kind: 'bind_code_factor', factor: 'totp' });
  if (weakens) return weakens;
  const now = deps.clock();
  const id = newId(deps);
  const seed = deps.random(SEED_BYTES);
  const params = { algorithm: deps.config.codes.totp.algorithm, digits: deps.config.codes.totp.digits, period: deps.config.codes.totp.period };
  await deps.store.transaction(async (tx) => {
    await tx.accounts.lock(account.id);
    await tx.authenticators.removePending(account.id, 'totp');
    await tx.authenticators.insert(pendingAuthenticator({ id, accountId: account.id, kind: 'totp', now, secret: deps.dataKeys.seal(seed, totpSealContext(id)), totp: params }));
    await tx.audit.append({ type: 'factor.binding_started', outcome: 'success', accountId: account.id, context, at: now, details: { factor: 'totp', authenticator: id } });
  });
  const uri = otpauthUri({ secret: seed, issuer: deps.config.rpName, accountName: account.username, params });
  const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return ok({ otpauthUri: uri, qrSvg });
}

/**
 * Confirms the app with a first code, through the same limits as any code. The accepted time step
 * is stored as the last used one, so the confirming code cannot then sign in. A new app replaces
 * any earlier one, and a disabled one (this is how it is rebound).
 */
export async function confirmTotpEnrolment(deps: Deps, active: ActiveSession, input: { code: string; context: RequestContext }): Promise<Result<FactorSummary>> {
  const { account } = active;
  const { context } = input;
  const now = deps.clock();
  const refused = codeFactorBindable(deps.policies[account.role], 'totp');
  if (refused) return fail(refused);
  const pending = await deps.store.authenticators.findPending(account.id, 'totp');
  if (!pending || pending.createdAt + deps.config.codes.ttlMs <= now) return fail('factor_setup_unknown');
  // Fresh when the binding began (the person then scans and types a code), and its passkey still usable.
  const fresh = await requireFresh(deps, active, { asOf: pending.createdAt });
  if (!fresh.ok) return fresh;
  const code = normaliseCode(deps, 'totp', pending, input.code);
  if (code === null) return fail('code_malformed');
  const subject: GuardSubject = { factor: 'totp', authenticator: pending, throttleKey: `acct:${account.id}`, accountId: account.id, context };
  const admitted = await admitGuess(deps, subject);
  if (!admitted.ok) return admitted;
  const check = await checkCode(deps, { factor: 'totp', authenticator: pending, code });
  await recordCheck(deps, subject, { result: check.result, reserved: admitted.value.reserved ?? 0 });
  if (check.result !== 'match') {
    await deps.store.audit.append({ type: 'factor.binding', outcome: 'failure', reason: 'code_invalid', accountId: account.id, context, at: now, details: { factor: 'totp', authenticator: pending.id, checked: true } });
    return fail('code_invalid');
  }
  const bound = await deps.store.transaction(async (tx) => {
    await tx.accounts.lock(account.id);
    if (!(await tx.authenticators.bind(pending.id, { now, step: check.step! }))) return false;
    await tx.codeThrottles.reset(`acct:${account.id}`);
    await codeFactorChanged(deps, tx, { accountId: account.id, kind: 'totp', change: 'create', by: 'user', at: now });
    await tx.codeThrottles.forgive(addressThrottleKey(context));
    await tx.audit.append({ type: 'factor.bound', outcome: 'success', accountId: account.id, context, at: now, details: { factor: 'totp', authenticator: pending.id } });
    return true;
  });
  if (!bound) return fail('factor_setup_unknown');
  await notifyHolder(deps, account, { kind: 'factor_bound', factor: 'totp' }, context);
  const authenticator = await deps.store.authenticators.findById(pending.id);
  return ok(await summariseCodeFactor(deps, authenticator!, account.role));
}
