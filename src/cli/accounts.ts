import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config/load.ts';
import { errorMessage, type Failure } from '../core/errors.ts';
import { ROLES, type RequestContext, type Role } from '../core/model.ts';
import { listAccounts, showAccount, updateAccount, type AccountDetails, type AccountSummary } from '../services/accountAdmin.ts';
import { CLI_ACTOR } from '../services/adminAccess.ts';
import type { Deps } from '../services/deps.ts';
import { describeChange, offboardAccount, resumeAccount, revokeSessions, suspendAccount, type LifecycleChange, type Revoked } from '../services/lifecycle.ts';
import { changeRole } from '../services/roles.ts';

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

/** What the audit trail records as the request context of an operator's command. */
const CLI_CONTEXT: RequestContext = { ip: '', userAgent: 'keybound cli' };

function fail(failure: Pick<Failure, 'code' | 'message'>): never {
  process.stderr.write(`keybound: ${failure.message ?? errorMessage(failure.code)}\n`);
  process.exit(1);
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const json = (value: unknown) => out(JSON.stringify(value));

const parseRole = (value: string): Role => {
  if (!(ROLES as readonly string[]).includes(value)) throw new InvalidArgumentError(`role must be one of ${ROLES.join(', ')}`);
  return value as Role;
};

/** Rows as aligned columns. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  for (const row of all) out(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function factorColumn(a: AccountSummary): string {
  const passkeys = `${plural(a.factors.passkeys, 'passkey')} (${a.factors.deviceBoundPasskeys} device-bound)`;
  return a.factors.codeFactors.length ? `${passkeys} + ${a.factors.codeFactors.join(', ')}` : passkeys;
}

export function revokedLines(revoked: Revoked): string[] {
  return [
    `  sessions ended:             ${revoked.sessions}`,
    `  grants ended:               ${revoked.grants} (with their refresh tokens and opaque access tokens)`,
    `  passkeys disabled:          ${revoked.passkeys}`,
    `  code factors disabled:      ${revoked.codeFactors}`,
    `  enrolment links revoked:    ${revoked.invitations}`,
    `  pending code sign-ins ended: ${revoked.pendingCodeSignIns}`,
    `  pending approvals cancelled: ${revoked.pendingApprovals}`,
    revoked.machinesTransferredTo
      ? `  workloads and API keys:     ${revoked.workloads} and ${revoked.apiKeys} moved to ${revoked.machinesTransferredTo}`
      : `  workloads disabled:         ${revoked.workloads}`,
    ...(revoked.machinesTransferredTo ? [] : [`  API keys revoked:           ${revoked.apiKeys}`]),
    `  delegations to agents revoked: ${revoked.delegations}`,
  ];
}

const tokensLine = (change: LifecycleChange) =>
  `JWT access tokens already issued stay valid until ${new Date(change.selfContained.accessTokensValidUntil).toISOString()} (KEYBOUND_OIDC_ACCESS_TOKEN_TTL), ID tokens until ${new Date(change.selfContained.idTokensValidUntil).toISOString()}; nothing else of the account works any more.`;

function printDetails(d: AccountDetails): void {
  out(`${d.username} (${d.displayName})`);
  out(`  status:       ${d.status}`);
  out(`  role:         ${d.role}`);
  out(`  email:        ${d.email ?? '-'}`);
  out(`  created:      ${d.createdAt}`);
  out(`  last sign-in: ${d.lastSignInAt ?? 'never'}`);
  out(`Passkeys (${d.passkeys.length}):`);
  for (const p of d.passkeys) {
    out(`  ${p.nickname}: ${p.kind}, ${p.authenticator ?? `AAGUID ${p.aaguid}`}, ${p.status}${p.flaggedReason ? ` (${p.flaggedReason})` : ''}, added ${p.createdAt}, last used ${p.lastUsedAt ?? 'never'}`);
  }
  out(`Code factors (${d.codeFactors.length}):`);
  for (const c of d.codeFactors) {
    const left = c.recoveryCodesLeft !== undefined ? `, ${c.recoveryCodesLeft} codes left` : '';
    out(`  ${c.kind}${c.destination ? ` to ${c.destination}` : ''}: ${c.status}${c.disabledReason ? ` (${c.disabledReason})` : ''}${left}, added ${c.createdAt}, last used ${c.lastUsedAt ?? 'never'}`);
  }
  out(`Sessions (${d.sessions.length}):`);
  for (const s of d.sessions) out(`  ${s.id}: AAL${s.aal} ${s.amr.join('+')}, since ${s.createdAt}, last seen ${s.lastSeenAt} from ${s.ip || '-'}, ends ${s.expiresAt}`);
  out(`Grants to applications (${d.grants.length}):`);
  for (const g of d.grants) out(`  ${g.clientId ?? '(unknown client)'}${g.offline ? ' offline_access' : ''}, since ${g.createdAt}`);
  out(`Pending enrolment links (${d.pendingLinks.length}):`);
  for (const l of d.pendingLinks) out(`  made by ${l.createdBy ?? '-'} at ${l.createdAt}, valid until ${l.expiresAt}`);
  out(`Pending recoveries and approvals (${d.pendingApprovals.length}):`);
  for (const a of d.pendingApprovals) out(`  ${a.kind} ${a.id}: ${a.state}, requested by ${a.requestedBy}${a.releaseAt ? `, release ${a.releaseAt}` : ''}`);
}

/** `keybound accounts ...` (README "Account lifecycle"). */
export function registerAccountCommands(program: Command, withDeps: WithDeps): void {
  const accounts = program.command('accounts').description('inspect and administer accounts (README "Account lifecycle")');

  accounts
    .command('list')
    .description('list accounts with status, last sign-in and factors')
    .option('--query <text>', 'only accounts whose username, display name or email contains this')
    .option('--json', 'print JSON')
    .action(async (options: { query?: string; json?: boolean }) => {
      const result = await withDeps((deps) => listAccounts(deps, { actor: CLI_ACTOR, query: options.query }));
      if (!result.ok) fail(result);
      // The counts stay where earlier versions printed them, beside the new columns.
      if (options.json) return json(result.value.map((a) => ({ ...a, passkeys: a.factors.passkeys, deviceBoundPasskeys: a.factors.deviceBoundPasskeys })));
      table(
        ['USERNAME', 'ROLE', 'STATUS', 'LAST SIGN-IN', 'FACTORS', 'CREATED'],
        result.value.map((a) => [a.username, a.role, a.status, a.lastSignInAt ?? 'never', factorColumn(a), a.createdAt]),
      );
    });

  accounts
    .command('show')
    .description('one account: status, role, email, passkeys, code factors, sessions, grants, pending links, last sign-in')
    .argument('<username>', 'the account')
    .option('--json', 'print JSON')
    .action(async (username: string, options: { json?: boolean }) => {
      const result = await withDeps((deps) => showAccount(deps, { actor: CLI_ACTOR, username }));
      if (!result.ok) fail(result);
      if (options.json) json(result.value);
      else printDetails(result.value);
    });

  accounts
    .command('suspend')
    .description('suspend an account: end its sessions and grants at once, refuse every sign-in and recovery until resumed')
    .argument('<username>', 'the account')
    .option('--reason <text>', 'why (audited and told to the holder)')
    .option('--json', 'print JSON')
    .action(async (username: string, options: { reason?: string; json?: boolean }) => {
      const result = await withDeps((deps) => suspendAccount(deps, { username, actor: CLI_ACTOR, context: CLI_CONTEXT, reason: options.reason ?? null }));
      if (!result.ok) fail(result);
      if (options.json) return json(describeChange(result.value));
      out(`${result.value.account.username} suspended (was ${result.value.from}): ${plural(result.value.revoked.sessions, 'session')} and ${plural(result.value.revoked.grants, 'grant')} ended.`);
      out(tokensLine(result.value));
    });

  accounts
    .command('resume')
    .description('resume a suspended account (its ended sessions and grants stay ended)')
    .argument('<username>', 'the account')
    .option('--json', 'print JSON')
    .action(async (username: string, options: { json?: boolean }) => {
      const result = await withDeps((deps) => resumeAccount(deps, { username, actor: CLI_ACTOR, context: CLI_CONTEXT }));
      if (!result.ok) fail(result);
      if (options.json) return json(describeChange(result.value));
      out(`${result.value.account.username} resumed: ${result.value.account.status}.`);
    });

  accounts
    .command('offboard')
    .description('offboard an account for good: sessions, grants, passkeys, code factors, links and pending code sign-ins, in one transaction')
    .argument('<username>', 'the account')
    .option('--reason <text>', 'why (audited)')
    .option('--json', 'print what was revoked as JSON')
    .action(async (username: string, options: { reason?: string; json?: boolean }) => {
      const result = await withDeps((deps) => offboardAccount(deps, { username, actor: CLI_ACTOR, context: CLI_CONTEXT, reason: options.reason ?? null }));
      if (!result.ok) fail(result);
      if (options.json) return json(describeChange(result.value));
      out(`${result.value.account.username} offboarded (was ${result.value.from}). Revoked:`);
      for (const line of revokedLines(result.value.revoked)) out(line);
      out(tokensLine(result.value));
    });

  accounts
    .command('update')
    .description("change an account's email address or display name (audited, told to the holder)")
    .argument('<username>', 'the account')
    .option('--email <address>', "the new address for security notices ('' removes it)")
    .option('--display-name <name>', 'the new name shown to the person')
    .option('--json', 'print JSON')
    .action(async (username: string, options: { email?: string; displayName?: string; json?: boolean }) => {
      const changes = { ...(options.email !== undefined ? { email: options.email } : {}), ...(options.displayName !== undefined ? { displayName: options.displayName } : {}) };
      const result = await withDeps((deps) => updateAccount(deps, { actor: CLI_ACTOR, username, changes, context: CLI_CONTEXT }));
      if (!result.ok) fail(result);
      const a = result.value;
      if (options.json) return json({ id: a.id, username: a.username, displayName: a.displayName, email: a.email });
      out(`${a.username}: display name ${JSON.stringify(a.displayName)}, email ${a.email ?? '-'}`);
    });

  accounts
    .command('set-role')
    .description("change an account's role (audited as account.role_changed with the old and new role, told to the holder)")
    .argument('<username>', 'the account')
    .argument('<role>', ROLES.join(' | '), parseRole)
    .action(async (username: string, role: Role) => {
      const result = await withDeps((deps) => changeRole(deps, { username, role, actor: CLI_ACTOR, context: CLI_CONTEXT }));
      if (!result.ok) fail(result);
      // The CLI changes a role at once (changeRole); only the API's raise to admin awaits approval.
      if (result.value.kind !== 'changed') fail({ code: 'internal_error' });
      const { account, from } = result.value;
      out(from === role ? `${account.username} is already ${role}; nothing changed` : `${account.username}: role ${from} -> ${role}`);
    });

  const sessions = program.command('sessions').description('sessions and grants (OWASP ASVS 5.0 7.4.5)');
  sessions
    .command('revoke')
    .description("end one account's sessions and OpenID grants, or everyone's; the accounts may sign in again")
    .option('--account <username>', 'the account')
    .option('--all', 'every account')
    .option('--json', 'print JSON')
    .action(async (options: { account?: string; all?: boolean; json?: boolean }) => {
      if ((options.account === undefined) === (options.all !== true)) fail({ code: 'invalid_request', message: 'give either --account <username> or --all' });
      const target = options.all ? ({ all: true } as const) : { username: options.account! };
      const result = await withDeps((deps) => revokeSessions(deps, { target, actor: CLI_ACTOR, context: CLI_CONTEXT }));
      if (!result.ok) fail(result);
      if (options.json) return json(result.value);
      const { accounts: n, sessions: s, grants: g } = result.value;
      out(`Ended ${plural(s, 'session')} and ${plural(g, 'grant')} of ${plural(n, 'account')}.`);
    });
}
