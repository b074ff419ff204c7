import { FACTOR_NAME, KIND_FACTOR, STRENGTH, nistAccepted, type CodeFactor, type StrengthWord } from '../../codes/factors.ts';
import { fail, ok, type Result } from '../../core/errors.ts';
import type { CodeAuthenticator, RequestContext, Role } from '../../core/model.ts';
import { codeFactorBindable } from '../../core/policy.ts';
import type { Deps } from '../deps.ts';
import { codeFactorChanged } from '../../ssf/events.ts';
import { listPasskeys } from '../passkeys/management.ts';
import { requireFresh } from '../freshness.ts';
import type { ActiveSession } from '../sessions.ts';
import { boundChannels } from '../devices/announce.ts';
import { joinChannels, notifyHolder } from './notify.ts';
import { isoTime, isoTimeOrNull } from '../../core/time.ts';

const NO_CHANNEL = { email: [], sms: [] } as const;

/** Every sign-in method of an account, as the account page and `GET /api/v1/factors` show it. */
export interface FactorSummary {
  readonly id: string;
  readonly factor: CodeFactor | 'passkey';
  readonly name: string;
  /** What it is worth, in words ("phishing-resistant", "can be phished", ...). */
  readonly strength: readonly StrengthWord[];
  readonly phishingResistant: boolean;
  /** `false` only for email codes, which NIST SP 800-63B-4 does not accept as an authenticator. */
  readonly nistAccepted: boolean;
  readonly status: 'active' | 'disabled' | 'flagged';
  readonly disabledReason: string | null;
  /** Where codes go, partly hidden (`+44 ••• ••• 123`, `a•••@example.com`). */
  readonly destination: string | null;
  /** The role's policy still allows signing in with it. */
  readonly allowed: boolean;
  readonly recoveryCodesLeft?: number;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
}

export function maskDestination(destination: string | null): string | null {
  if (destination === null) return null;
  const at = destination.indexOf('@');
  if (at > 0) return `${destination[0]}•••${destination.slice(at)}`;
  return `${destination.slice(0, 3)}${'•'.repeat(Math.max(0, destination.length - 6))}${destination.slice(-3)}`;
}

export async function summariseCodeFactor(deps: Deps, a: CodeAuthenticator, role: Role): Promise<FactorSummary> {
  const factor = KIND_FACTOR[a.kind];
  return {
    id: a.id,
    factor,
    name: FACTOR_NAME[factor],
    strength: STRENGTH[factor],
    phishingResistant: false,
    nistAccepted: nistAccepted(factor),
    status: a.status === 'disabled' ? 'disabled' : 'active',
    disabledReason: a.disabledReason,
    destination: maskDestination(a.destination),
    allowed: codeFactorBindable(deps.policies[role], factor) === null,
    ...(factor === 'recovery' ? { recoveryCodesLeft: await deps.store.recoveryCodes.countUnused(a.id) } : {}),
    createdAt: isoTime(a.createdAt),
    lastUsedAt: isoTimeOrNull(a.lastUsedAt),
  };
}

/** Passkeys first (the strongest), then code factors. */
export async function listFactors(deps: Deps, account: { id: string; role: Role }): Promise<FactorSummary[]> {
  const passkeys: FactorSummary[] = (await listPasskeys(deps, account.id)).map((p) => ({
    id: p.id,
    factor: 'passkey',
    name: `Passkey “${p.nickname}” (${p.kind})`,
    strength: STRENGTH.passkey,
    phishingResistant: true,
    nistAccepted: true,
    status: p.status === 'active' ? 'active' : 'flagged',
    disabledReason: p.flaggedReason,
    destination: null,
    allowed: true,
    createdAt: p.createdAt,
    lastUsedAt: p.lastUsedAt,
  }));
  const codes = await deps.store.authenticators.listBound(account.id);
  return [...passkeys, ...(await Promise.all(codes.map((a) => summariseCodeFactor(deps, a, account.role))))];
}

/** Removes a code factor (a fresh passkey sign-in is needed, as for any change of authenticators). */
export async function removeCodeFactor(deps: Deps, active: ActiveSession, id: string, context: RequestContext): Promise<Result<null>> {
  const fresh = await requireFresh(deps, active);
  if (!fresh.ok) return fresh;
  const { account } = active;
  const now = deps.clock();
  const removed = await deps.store.transaction(async (tx) => {
    const authenticator = await tx.authenticators.findById(id);
    if (!authenticator || authenticator.accountId !== account.id || authenticator.status === 'pending') return null;
    await tx.authenticators.remove(account.id, id);
    await codeFactorChanged(deps, tx, { accountId: account.id, kind: authenticator.kind, change: 'delete', by: 'user', at: now });
    await tx.audit.append({ type: 'factor.removed', outcome: 'success', accountId: account.id, context, at: now, details: { factor: KIND_FACTOR[authenticator.kind], authenticator: id } });
    return authenticator;
  });
  if (!removed) return fail('factor_not_found');
  // The removed address or number is told too: a removal the holder did not make shows there.
  const gone = removed.destination === null ? NO_CHANNEL : removed.kind === 'sms_code' ? { email: [], sms: [removed.destination] } : removed.kind === 'email_code' ? { email: [removed.destination.toLowerCase()], sms: [] } : NO_CHANNEL;
  await notifyHolder(deps, account, { kind: 'factor_removed', factor: KIND_FACTOR[removed.kind] }, context, joinChannels(await boundChannels(deps.store, account), gone));
  return ok(null);
}
