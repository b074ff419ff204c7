import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config/load.ts';
import { errorMessage, type Failure } from '../core/errors.ts';
import type { RequestContext } from '../core/model.ts';
import { CLI_ACTOR } from '../services/adminAccess.ts';
import { APPROVAL_VIEWS, describeApproval, type ApprovalView, type DescribedApproval } from '../services/approvals.ts';
import type { Deps } from '../services/deps.ts';
import { cancelRecovery, issueRecoveryLink, listRecoveries, requestRecovery, showRecovery } from '../services/recovery/assisted.ts';

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

const CLI_CONTEXT: RequestContext = { ip: '', userAgent: 'keybound cli' };

function fail(failure: Pick<Failure, 'code' | 'message' | 'retryAfter'>): never {
  const wait = failure.retryAfter !== undefined ? ` (retry after ${failure.retryAfter} s)` : '';
  process.stderr.write(`keybound: ${failure.message ?? errorMessage(failure.code)}${wait}\n`);
  process.exit(1);
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

const parseState = (value: string): ApprovalView => {
  if (!(APPROVAL_VIEWS as readonly string[]).includes(value)) throw new InvalidArgumentError(`state must be one of ${APPROVAL_VIEWS.join(', ')}`);
  return value as ApprovalView;
};

function printRecovery(r: DescribedApproval): void {
  out(`${r.id}  ${r.username ?? '?'}: ${r.state}`);
  out(`  requested by: ${r.requestedBy} at ${r.createdAt}`);
  out(`  reason:       ${r.reason ?? ''}`);
  out(`  revoke other passkeys and sessions on use: ${'revokeExisting' in r && r.revokeExisting ? 'yes' : 'no'}`);
  if (r.approvedBy) out(`  approved by:  ${r.approvedBy} at ${r.approvedAt}`);
  if (r.releaseAt) out(`  released at:  ${r.releaseAt}`);
  if (r.linkIssuedAt) out(`  link issued:  ${r.linkIssuedAt}`);
  if (r.cancelledBy) out(`  cancelled by: ${r.cancelledBy} at ${r.cancelledAt}`);
}

/**
 * `keybound recoveries ...` (README "Recovery"): assisted recovery from the server's own shell. With
 * fewer than two active administrators a request needs no approval (bootstrap) but still waits the
 * delay and is announced; with two or more it awaits an administrator's approval through the API.
 */
export function registerRecoveryCommands(program: Command, withDeps: WithDeps): void {
  const recoveries = program.command('recoveries').description('assisted recovery for a holder who lost every authenticator (two-person approval, a delay, notice to the holder)');

  recoveries
    .command('list')
    .description('assisted recoveries, newest first')
    .option('--state <state>', APPROVAL_VIEWS.filter((s) => s !== 'applied').join(' | '), parseState)
    .option('--json', 'print them as a JSON array')
    .action(async (options: { state?: ApprovalView; json?: boolean }) => {
      const result = await withDeps((deps) => listRecoveries(deps, { actor: CLI_ACTOR, ...(options.state ? { state: options.state } : {}) }));
      if (!result.ok) fail(result);
      if (options.json) return out(JSON.stringify(result.value));
      if (result.value.length === 0) return out('No assisted recoveries.');
      for (const r of result.value) out(`${r.id}  ${(r.username ?? '?').padEnd(24)}  ${r.state.padEnd(17)}  by ${r.requestedBy}${r.releaseAt ? `  release ${r.releaseAt}` : ''}`);
    });

  recoveries
    .command('show')
    .description('one assisted recovery')
    .argument('<id>', 'the recovery id')
    .option('--json', 'print it as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const result = await withDeps((deps) => showRecovery(deps, { actor: CLI_ACTOR, id }));
      if (!result.ok) fail(result);
      if (options.json) return out(JSON.stringify(result.value));
      printRecovery(result.value);
    });

  recoveries
    .command('request')
    .description('request an assisted recovery: told to the holder; awaits a second administrator (or, with fewer than two active administrators, only the delay)')
    .argument('<username>', 'the holder who lost every authenticator')
    .requiredOption('--reason <text>', 'who asked, and how they were identified (audited)')
    .option('--revoke-existing', "when the link is used, disable the holder's other passkeys and end every session")
    .option('--json', 'print the recovery as JSON')
    .action(async (username: string, options: { reason: string; revokeExisting?: boolean; json?: boolean }) => {
      const result = await withDeps(async (deps) => {
        const requested = await requestRecovery(deps, { username, reason: options.reason, revokeExisting: options.revokeExisting ?? false, actor: CLI_ACTOR, context: CLI_CONTEXT });
        return requested.ok ? { ok: true as const, value: { ...requested.value, view: describeApproval(requested.value.approval, requested.value.account, deps.clock()) } } : requested;
      });
      if (!result.ok) fail(result);
      const { view, bootstrap } = result.value;
      if (options.json) return out(JSON.stringify({ ...view, bootstrap }));
      out(`Recovery ${view.id} of ${view.username}: ${view.state}.`);
      out(
        bootstrap
          ? `Fewer than two active administrators exist, so it needs no approval (bootstrap). It is released at ${view.releaseAt}; then run: npx keybound recoveries link ${view.id}`
          : `A second administrator approves it with POST /api/v1/admin/recoveries/${view.id}/approve; it then waits the holder's role's KEYBOUND_<ROLE>_RECOVERY_DELAY.`,
      );
      out('The holder was told on every bound channel and can cancel it from their account page.');
    });

  recoveries
    .command('cancel')
    .description('cancel an assisted recovery (a link already issued and unused stops working)')
    .argument('<id>', 'the recovery id')
    .action(async (id: string) => {
      const result = await withDeps((deps) => cancelRecovery(deps, { id, by: { actor: CLI_ACTOR }, context: CLI_CONTEXT }));
      if (!result.ok) fail(result);
      out(`Recovery ${id} cancelled.`);
    });

  recoveries
    .command('link')
    .description('after release, print the single-use enrolment link (15 minutes) of a recovery this CLI requested; once')
    .argument('<id>', 'the recovery id')
    .option('--json', 'print {"url", "expiresAt"} as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const result = await withDeps((deps) => issueRecoveryLink(deps, { id, actor: CLI_ACTOR, context: CLI_CONTEXT }));
      if (!result.ok) fail(result);
      const expiresAt = new Date(result.value.expiresAt).toISOString();
      if (options.json) return out(JSON.stringify({ url: result.value.url, expiresAt }));
      out(`Single-use enrolment link, valid until ${expiresAt} (shown once; give it to the holder only):\n${result.value.url}`);
    });
}
