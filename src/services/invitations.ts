import { randomUUID } from 'node:crypto';
import { base64url } from '../core/bytes.ts';
import { fail, ok, type Result } from '../core/errors.ts';
import type { Account, Invitation, Role } from '../core/model.ts';
import { hashSecret, newToken, parseToken, secretMatches } from '../core/tokens.ts';
import type { Deps } from './deps.ts';
import { deviceLinkFailure, deviceLinkVouched } from './devices/linkChecks.ts';

export const USERNAME_PATTERN = /^[a-z0-9](?:[a-z0-9._@-]{0,62}[a-z0-9])?$/;
/** Every stored string has a bound: a display name is shown on pages and by authenticators. */
export const MAX_DISPLAY_NAME = 128;
/** RFC 5321 §4.5.3.1.3 with §4.1.2: a usable address is at most 254 characters. */
export const MAX_EMAIL = 254;

export interface Invited {
  readonly account: Account;
  /** The enrolment token, `id.secret`; shown once, only its hash is kept. */
  readonly token: string;
  readonly url: string;
  readonly expiresAt: number;
}

/**
 * Issues an enrolment link. A new username gets an account in state `invited`; an invited account
 * that never enrolled gets a fresh link and any earlier unused link stops working. An active account
 * is refused (`account_already_active`): a link for it would add a passkey to someone's account with
 * no approval, no delay and no notice. A holder who lost every authenticator is helped by an assisted
 * recovery (services/recovery/assisted.ts, `keybound recoveries request <username>`).
 */
export async function invite(
  deps: Deps,
  input: { username: string; role?: Role; displayName?: string; email?: string | null; createdBy: string | null; ttlMs?: number; onlyNew?: true },
): Promise<Result<Invited>> {
  const username = input.username.trim().toLowerCase();
  if (!USERNAME_PATTERN.test(username)) {
    return fail('invalid_request', { message: 'A username is 1-64 characters: lower-case letters, digits, and . _ @ - inside.' });
  }
  if ((input.displayName?.trim().length ?? 0) > MAX_DISPLAY_NAME) {
    return fail('invalid_request', { message: `A display name is at most ${MAX_DISPLAY_NAME} characters.` });
  }
  if (input.email != null && input.email.length > MAX_EMAIL) return fail('invalid_request', { message: `An email address is at most ${MAX_EMAIL} characters.` });
  const now = deps.clock();
  const ttl = input.ttlMs ?? deps.config.invitationTtlMs;
  const token = newToken(deps.random);
  return deps.store.transaction(async (tx) => {
    let account = await tx.accounts.findByUsername(username);
    const existing = account !== undefined;
    // SCIM creates (services/scim/users.ts): an existing username is a conflict, decided here in the
    // transaction, so of racing creates one makes the account and the others never re-link it.
    if (existing && input.onlyNew) return fail('username_taken');
    if (account && (account.status === 'suspended' || account.status === 'offboarded')) {
      return fail('account_not_active', { message: `Account ${username} is ${account.status}; it cannot be sent an enrolment link.` });
    }
    if (account?.status === 'active') {
      return fail('account_already_active', { message: `Account ${username} is active: an enrolment link would add a passkey to it without approval or notice. For a holder who lost every passkey, start an assisted recovery: npx keybound recoveries request ${username} --reason "..."` });
    }
    if (!account) {
      account = {
        id: randomUUID(),
        username,
        displayName: input.displayName?.trim() || username,
        role: input.role ?? 'member',
        status: 'invited',
        userHandle: base64url.encode(deps.random(32)),
        email: input.email ?? null,
        createdAt: now,
      };
      if (!(await tx.accounts.create(account))) return fail('username_taken');
      await tx.audit.append({ type: 'account.created', outcome: 'success', accountId: account.id, at: now, details: { username, role: account.role, by: input.createdBy } });
    } else {
      await tx.accounts.lock(account.id);
      // A new link for an existing account is not a way to change it: a role change is audited and
      // has its own command (services/roles.ts); asking for different values is refused, not ignored.
      const changes = [
        input.role !== undefined && input.role !== account.role ? `role ${account.role} (asked: ${input.role})` : null,
        input.email != null && input.email !== account.email ? `email ${account.email ?? 'none'} (asked: ${input.email})` : null,
        input.displayName?.trim() && input.displayName.trim() !== account.displayName ? `display name ${JSON.stringify(account.displayName)} (asked: ${JSON.stringify(input.displayName.trim())})` : null,
      ].filter((c) => c !== null);
      if (changes.length > 0) {
        const how = input.role !== undefined && input.role !== account.role ? ` To change the role: keybound accounts set-role ${username} ${input.role}.` : '';
        return fail('invite_changes_account', { message: `Account ${username} exists with ${changes.join(', ')}; an enrolment link never changes an existing account. Leave those options out to send it a new link.${how}` });
      }
      await tx.invitations.revokeForAccount(account.id, now);
    }
    const invitation: Invitation = {
      id: token.id,
      accountId: account.id,
      secretHash: hashSecret(token.secret),
      createdBy: input.createdBy,
      createdAt: now,
      expiresAt: now + ttl,
      usedAt: null,
    };
    await tx.invitations.create(invitation);
    await tx.audit.append({
      type: 'invitation.created',
      outcome: 'success',
      accountId: account.id,
      at: now,
      details: { invitation: invitation.id, expiresAt: invitation.expiresAt, by: input.createdBy, existingAccount: existing },
    });
    return ok({ account, token: token.token, url: enrolmentUrl(deps.config.publicUrl, token.token), expiresAt: invitation.expiresAt });
  });
}

export function enrolmentUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/enrol/${token}`;
}

/** Looks up an enrolment token without using it: unknown, expired and used tokens each get their code. */
export async function checkEnrolmentToken(deps: Deps, token: string): Promise<Result<{ invitation: Invitation; account: Account }>> {
  const parts = parseToken(token);
  if (!parts) return fail('enrolment_token_unknown');
  const invitation = await deps.store.invitations.find(parts.id);
  if (!invitation || !secretMatches(parts.secret, invitation.secretHash)) return fail('enrolment_token_unknown');
  const device = invitation.kind === 'device';
  if (invitation.usedAt !== null) return device ? deviceLinkFailure('enrolment_token_used') : fail('enrolment_token_used');
  if (invitation.expiresAt <= deps.clock()) return device ? deviceLinkFailure('enrolment_token_expired') : fail('enrolment_token_expired');
  const account = await deps.store.accounts.findById(invitation.accountId);
  if (!account) return fail('enrolment_token_unknown');
  if (account.status === 'suspended' || account.status === 'offboarded') return fail('account_not_active');
  const unvouched = await deviceLinkVouched(deps.store, invitation);
  if (unvouched) return unvouched;
  return ok({ invitation, account });
}
