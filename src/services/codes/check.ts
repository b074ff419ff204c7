import { deliveredCodeMatches } from '../../codes/delivered.ts';
import type { CodeFactor } from '../../codes/factors.ts';
import { normaliseNumericCode } from '../../codes/normalise.ts';
import { normaliseRecoveryCode, recoveryCodeHash } from '../../codes/recovery.ts';
import { verifyTotp } from '../../codes/totp.ts';
import type { CodeAuthenticator } from '../../core/model.ts';
import type { Deps } from '../deps.ts';

export type CodeCheck =
  | { readonly result: 'match'; readonly step?: number; readonly recoveryCodeId?: string }
  | { readonly result: 'mismatch' }
  /** A TOTP code that was right once but whose time step was already used (RFC 6238 §5.2). */
  | { readonly result: 'replay' };

/** The context a TOTP seed is sealed under: bound to its authenticator, so it cannot be moved. */
export const totpSealContext = (authenticatorId: string) => `totp-seed:${authenticatorId}`;

/**
 * A TOTP seed sealed under an older data key, sealed again under the current one (key rotation:
 * once every seed has been used after a rotation, the old key can be dropped). `null` when current.
 */
export function resealedSecret(deps: Deps, authenticator: CodeAuthenticator): string | null {
  const sealed = authenticator.secret;
  if (!sealed || !deps.dataKeys.needsReseal(sealed)) return null;
  const context = totpSealContext(authenticator.id);
  return deps.dataKeys.seal(deps.dataKeys.open(sealed, context), context);
}

/** Reads a typed code for a factor; `null` when it cannot be one (refused before any guess is spent). */
export function normaliseCode(deps: Deps, factor: CodeFactor, authenticator: CodeAuthenticator | null, input: string): string | null {
  if (factor === 'recovery') return normaliseRecoveryCode(input);
  const digits = factor === 'totp' ? (authenticator?.totp?.digits ?? deps.config.codes.totp.digits) : deps.config.codes.digits;
  return normaliseNumericCode(input, digits);
}

/**
 * Compares a normalised code with what the authenticator (or the attempt, for a delivered code)
 * holds. Only ever called after `admitGuess` let the guess through.
 */
export async function checkCode(
  deps: Deps,
  input: { factor: CodeFactor; authenticator: CodeAuthenticator; code: string; attempt?: { id: string; codeHash: string | null } },
): Promise<CodeCheck> {
  const { authenticator, code } = input;
  switch (input.factor) {
    case 'totp': {
      if (!authenticator.secret || !authenticator.totp) return { result: 'mismatch' };
      const secret = deps.dataKeys.open(authenticator.secret, totpSealContext(authenticator.id));
      const options = { nowMs: deps.clock(), params: authenticator.totp, window: deps.config.codes.totp.window };
      const step = verifyTotp(secret, code, { ...options, lastStep: authenticator.lastStep });
      if (step !== null) return { result: 'match', step };
      return verifyTotp(secret, code, { ...options, lastStep: null }) === null ? { result: 'mismatch' } : { result: 'replay' };
    }
    case 'sms':
    case 'email': {
      const attempt = input.attempt;
      return attempt?.codeHash && deliveredCodeMatches(attempt.id, code, attempt.codeHash) ? { result: 'match' } : { result: 'mismatch' };
    }
    case 'recovery': {
      const found = await deps.store.recoveryCodes.findUnused(authenticator.id, recoveryCodeHash(code));
      return found ? { result: 'match', recoveryCodeId: found.id } : { result: 'mismatch' };
    }
  }
}
