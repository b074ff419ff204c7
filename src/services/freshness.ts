import { fail, ok, type Result } from '../core/errors.ts';
import type { Session } from '../core/model.ts';
import type { Deps } from './deps.ts';
import { evaluate } from '../core/risk/engine.ts';
import { FRESH_CHECKS, type FreshInput } from '../core/risk/checks.ts';

/** What a sensitive change asks of the session making it, beyond being live. */
export interface FreshRule {
  /** Lowest level the session's sign-in must have reached (SMS and email binding ask for AAL2). */
  readonly minAal?: 2 | 3;
  /**
   * The instant freshness is judged at; now by default. The second step of a two-step change (a
   * ceremony or code confirmation) passes the instant its first step began, which was checked then:
   * the person may take a few minutes to scan a QR code or touch a key.
   */
  readonly asOf?: number;
}

const UNUSABLE = 'For this change, sign in again with a passkey first: the passkey this session signed in with is no longer usable.';
const TOO_LOW = 'For this change, sign in again with a passkey that verifies you (PIN, fingerprint or face): this session was not signed in strongly enough.';

/**
 * The one definition of a fresh session, which every service that binds, replaces or removes an
 * authenticator calls itself (so a new route or the CLI cannot skip it): signed in with a passkey
 * no longer than `KEYBOUND_FRESH_AUTH_MAX_AGE` ago, at `minAal` or above, and that passkey still
 * active on the session's account. A passkey since flagged (a sign counter that went backwards) or
 * removed (a lost device) vouches for nothing, however recent its sign-in.
 */
export async function requireFresh(deps: Deps, active: { readonly session: Session }, rule: FreshRule = {}): Promise<Result<null>> {
  const { session } = active;
  // Only a passkey session that is otherwise fresh costs a read: whether its passkey is still usable.
  const passkey = session.passkeyId !== null ? await deps.store.passkeys.findById(session.passkeyId) : undefined;
  const passkeyActive = !!passkey && passkey.accountId === session.accountId && passkey.status === 'active';
  const input: FreshInput = { session, passkeyActive, now: rule.asOf ?? deps.clock(), maxAgeMs: deps.config.freshAuthMaxAgeMs, ...(rule.minAal !== undefined ? { minAal: rule.minAal } : {}) };
  const decision = evaluate(FRESH_CHECKS, input);
  if (decision.decision === 'allow') return ok(null);
  // Every reason is the engine's; the sentence names the one a person can act on first.
  if (decision.reasons.includes('passkey_required') || decision.reasons.includes('max_age')) return fail('fresh_auth_required');
  if (decision.reasons.includes('acr_unmet')) return fail('fresh_auth_required', { message: TOO_LOW });
  return fail('fresh_auth_required', { message: UNUSABLE });
}

/** Whether the session is fresh for changing authenticators (the account page's question). */
export async function isFresh(deps: Deps, active: { readonly session: Session }): Promise<boolean> {
  return (await requireFresh(deps, active)).ok;
}
