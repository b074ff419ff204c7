import type { ApiKeyRow, WorkloadRow } from '../../store/ports.ts';
import type { Deps } from '../deps.ts';
import { revokeApiKey } from './apiKeys.ts';
import { revokeUnusedDelegation } from './delegations.ts';
import { disableWorkload } from './workloads.ts';
import { isoTimeOrNull } from '../../core/time.ts';

/**
 * `keybound nhi report` (issue 15; docs/nhi.md): the hygiene of active workloads, API keys and
 * delegations to agents.
 * - `orphaned`: its owner is not an active account (the owner cascade prevents this for changes
 *   made through Keybound; it finds what came before it or around it).
 * - `stale`: not used for KEYBOUND_NHI_STALE_DAYS (or, never used, made that long ago).
 * - `unrotated`: a workload whose key set is older than KEYBOUND_NHI_ROTATE_DAYS.
 * - `expiring`: an API key that expires within EXPIRING_MS.
 * - `long_lived`: an API key whose lifetime is longer than KEYBOUND_API_KEY_MAX_TTL allows now.
 * - `unused`: a live delegation (neither revoked nor expired) that no token exchange has used for
 *   KEYBOUND_NHI_STALE_DAYS, or never used and granted that long ago: a standing permission for an
 *   agent to act for a person that nobody relies on (oidc/tokenExchange.ts records each use).
 * With `disable`, orphaned and stale ones are disabled (workloads) or revoked (keys), and unused
 * delegations revoked (reason `unused`, what `stale` is for a machine), each audited.
 */
export const EXPIRING_MS = 7 * 86_400_000;

export type Issue = 'orphaned' | 'stale' | 'unrotated' | 'expiring' | 'long_lived' | 'unused';
export type EntryKind = 'workload' | 'api_key' | 'delegation';

export interface ReportEntry {
  readonly kind: EntryKind;
  readonly id: string;
  /** A delegation's: the agent's name. */
  readonly name: string;
  /** A delegation's: the person who granted it. */
  readonly owner: string;
  /** A delegation's agent client id (only on delegations). */
  readonly agent?: string;
  readonly issues: readonly Issue[];
  readonly lastUsedAt: string | null;
  /** Whether `--disable` disabled or revoked it. */
  readonly disabled: boolean;
}

export interface NhiReport {
  readonly entries: readonly ReportEntry[];
  readonly workloads: number;
  readonly apiKeys: number;
  /** Live delegations checked. */
  readonly delegations: number;
}

const ACTED_ON: readonly Issue[] = ['orphaned', 'stale'];

export async function nhiReport(deps: Deps, input: { disable: boolean; by: string }): Promise<NhiReport> {
  const now = deps.clock();
  const { staleMs, rotateMs, apiKeyMaxTtlMs } = deps.config.nhi;
  const owners = new Map<string, { username: string; active: boolean }>();
  const ownerOf = async (id: string) => {
    if (!owners.has(id)) {
      const account = await deps.store.accounts.findById(id);
      owners.set(id, { username: account?.username ?? `(deleted ${id})`, active: account?.status === 'active' });
    }
    return owners.get(id)!;
  };
  const common = async (row: WorkloadRow | ApiKeyRow): Promise<Issue[]> => {
    const issues: Issue[] = [];
    if (!(await ownerOf(row.ownerId)).active) issues.push('orphaned');
    if ((row.lastUsedAt ?? row.createdAt) <= now - staleMs) issues.push('stale');
    return issues;
  };

  const entries: ReportEntry[] = [];
  const workloads = (await deps.store.workloads.list()).filter((w) => w.status === 'active');
  for (const w of workloads) {
    const issues = await common(w);
    if ((w.keysRotatedAt ?? w.createdAt) <= now - rotateMs) issues.push('unrotated');
    if (issues.length === 0) continue;
    let disabled = false;
    if (input.disable && issues.some((i) => ACTED_ON.includes(i))) {
      disabled = (await disableWorkload(deps, { clientId: w.clientId, by: input.by, reason: `nhi report: ${issues.filter((i) => ACTED_ON.includes(i)).join(', ')}` })).ok;
    }
    entries.push({ kind: 'workload', id: w.clientId, name: w.name, owner: (await ownerOf(w.ownerId)).username, issues, lastUsedAt: isoTimeOrNull(w.lastUsedAt), disabled });
  }
  const keys = (await deps.store.apiKeys.list()).filter((k) => k.status === 'active' && k.expiresAt > now);
  for (const k of keys) {
    const issues = await common(k);
    if (k.expiresAt - now <= EXPIRING_MS) issues.push('expiring');
    if (k.expiresAt - k.createdAt > apiKeyMaxTtlMs) issues.push('long_lived');
    if (issues.length === 0) continue;
    let disabled = false;
    if (input.disable && issues.some((i) => ACTED_ON.includes(i))) {
      disabled = (await revokeApiKey(deps, { id: k.id, by: input.by, reason: `nhi report: ${issues.filter((i) => ACTED_ON.includes(i)).join(', ')}` })).ok;
    }
    entries.push({ kind: 'api_key', id: k.id, name: k.name, owner: (await ownerOf(k.ownerId)).username, issues, lastUsedAt: isoTimeOrNull(k.lastUsedAt), disabled });
  }
  const delegations = await deps.store.delegations.listLive(now);
  for (const d of delegations) {
    if ((d.lastUsedAt ?? d.createdAt) > now - staleMs) continue;
    const disabled = input.disable && (await revokeUnusedDelegation(deps, { id: d.id, accountId: d.accountId, by: input.by })).ok;
    const agent = (await deps.store.workloads.find(d.clientId))?.name ?? d.clientId;
    entries.push({ kind: 'delegation', id: d.id, name: agent, owner: (await ownerOf(d.accountId)).username, agent: d.clientId, issues: ['unused'], lastUsedAt: isoTimeOrNull(d.lastUsedAt), disabled });
  }
  return { entries, workloads: workloads.length, apiKeys: keys.length, delegations: delegations.length };
}
