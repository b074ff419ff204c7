import { randomUUID } from 'node:crypto';
import { base64url } from '../../core/bytes.ts';
import type { Account, RequestContext } from '../../core/model.ts';
import type { ImportedAccount } from '../../store/ports.ts';
import { newId } from '../codes/attempts.ts';
import { totpSealContext } from '../codes/check.ts';
import type { Deps } from '../deps.ts';
import { hashFamily } from './passwordHash.ts';
import { checkRecord, type ImportRecord, type Problem, type RawRecord } from './record.ts';

/**
 * Imports accounts from another identity system (README "Importing accounts"). Every account
 * arrives `invited`: it becomes active only when a passkey is bound (an enrolment link, or the
 * migration sign-in, services/migration). Each account is written in its own transaction (the
 * account, its import record, its TOTP seed sealed under the data keys, and its audit event), so a
 * failure never leaves half an account, and a large import that stops keeps what it finished.
 * Import never changes an existing account: a username already there is reported and left alone,
 * which is what makes a second run of the same file change nothing.
 */
export interface ImportReport {
  readonly source: ImportedAccount['source'];
  readonly dryRun: boolean;
  /** Records read from the file, good and bad. */
  readonly records: number;
  /** Accounts created (with `dryRun`: that would be created). */
  readonly imported: number;
  /** Already imported by an earlier run: nothing changed. */
  readonly unchanged: number;
  /** Left alone, one line each: a username that exists and was not imported. */
  readonly skipped: readonly Problem[];
  /** Records that could not be imported, one line each. */
  readonly problems: readonly Problem[];
}

const IMPORT_CONTEXT: RequestContext = { ip: '', userAgent: 'keybound cli' };

export async function importAccounts(
  deps: Deps,
  input: {
    source: ImportedAccount['source'];
    records: Iterable<RawRecord | Problem>;
    dryRun: boolean;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<ImportReport> {
  const all = [...input.records];
  const skipped: Problem[] = [];
  const problems: Problem[] = [];
  const seen = new Map<string, string>();
  let imported = 0;
  let unchanged = 0;
  for (let i = 0; i < all.length; i++) {
    input.onProgress?.(i, all.length);
    const raw = all[i]!;
    const checked = 'reason' in raw ? raw : checkRecord(raw);
    if ('reason' in checked) {
      problems.push(checked);
      continue;
    }
    const earlier = seen.get(checked.username);
    if (earlier) {
      problems.push({ where: checked.where, username: checked.username, reason: `username already in this file (${earlier})` });
      continue;
    }
    seen.set(checked.username, checked.where);
    const outcome = await importOne(deps, checked, input);
    if (outcome === 'imported') imported++;
    else if (outcome === 'unchanged') unchanged++;
    else skipped.push(outcome);
  }
  input.onProgress?.(all.length, all.length);
  const report: ImportReport = { source: input.source, dryRun: input.dryRun, records: all.length, imported, unchanged, skipped, problems };
  if (!input.dryRun) {
    await deps.store.audit.append({
      type: 'import.completed',
      outcome: 'success',
      context: IMPORT_CONTEXT,
      at: deps.clock(),
      details: { source: input.source, records: all.length, imported, unchanged, skipped: skipped.length, problems: problems.length },
    });
  }
  return report;
}

async function importOne(deps: Deps, record: ImportRecord, input: { source: ImportedAccount['source']; dryRun: boolean }): Promise<'imported' | 'unchanged' | Problem> {
  const existing = await deps.store.accounts.findByUsername(record.username);
  if (existing) return (await alreadyThere(deps, existing, record)) ?? 'unchanged';
  if (input.dryRun) return 'imported';
  const now = deps.clock();
  const account: Account = {
    id: randomUUID(),
    username: record.username,
    displayName: record.displayName ?? record.username,
    role: record.role,
    status: 'invited',
    userHandle: base64url.encode(deps.random(32)),
    email: record.email,
    createdAt: now,
  };
  const created = await deps.store.transaction(async (tx) => {
    if (!(await tx.accounts.create(account))) return false;
    await tx.imports.insert({
      accountId: account.id,
      source: input.source,
      externalId: record.externalId,
      passwordHash: record.passwordHash,
      phone: record.phone,
      importedAt: now,
      passwordRemovedAt: null,
    });
    let totpId: string | null = null;
    if (record.totp) {
      // Sealed as an enrolment seals it (totpEnrolment.ts): AES-256-GCM, bound to the authenticator id.
      totpId = newId(deps);
      await tx.authenticators.insert({
        id: totpId,
        accountId: account.id,
        kind: 'totp',
        status: 'active',
        secret: deps.dataKeys.seal(record.totp.secret, totpSealContext(totpId)),
        totp: record.totp.params,
        destination: null,
        lastStep: null,
        failures: 0,
        disabledReason: null,
        createdAt: now,
        confirmedAt: now,
        lastUsedAt: null,
      });
    }
    const family = record.passwordHash ? hashFamily(record.passwordHash) : null;
    await tx.audit.append({
      type: 'account.imported',
      outcome: 'success',
      accountId: account.id,
      context: IMPORT_CONTEXT,
      at: now,
      details: {
        username: account.username,
        role: account.role,
        source: input.source,
        externalId: record.externalId,
        password: family && 'family' in family ? family.family : null,
        totp: totpId,
        phone: record.phone !== null,
      },
    });
    return true;
  });
  if (!created) return { where: record.where, username: record.username, reason: 'an account with this username was created meanwhile; left alone' };
  return 'imported';
}

/** `null` when the account is this import's own from an earlier run; otherwise why it is left alone. */
async function alreadyThere(deps: Deps, existing: Account, record: ImportRecord): Promise<Problem | null> {
  const imported = await deps.store.imports.find(existing.id);
  if (imported) return null;
  return { where: record.where, username: record.username, reason: `an account ${existing.username} (${existing.status}) already exists and was not imported; left alone` };
}
