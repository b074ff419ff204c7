import { ok, type Result } from '../../core/errors.ts';
import { actorName, authorize, type Actor } from '../adminAccess.ts';
import type { Deps } from '../deps.ts';
import { listApiKeys, revokeApiKey, type ApiKeyDetails } from './apiKeys.ts';
import { disableWorkload, enableWorkload, listWorkloads, type WorkloadDetails } from './workloads.ts';

/**
 * Workloads and API keys for an administrator (the console, `/api/v1/admin/workloads`,
 * `/api/v1/admin/api-keys`): the services `keybound workloads ...` and `keybound api-keys ...` use,
 * behind `authorize` (reads: an admin session; changes: fresh), recorded as `admin:<username>`.
 */

export async function adminListMachines(deps: Deps, input: { actor: Actor; owner?: string }): Promise<Result<{ workloads: WorkloadDetails[]; apiKeys: ApiKeyDetails[] }>> {
  const allowed = await authorize(deps, input.actor, { fresh: false });
  if (!allowed.ok) return allowed;
  const filter = input.owner !== undefined ? { owner: input.owner } : {};
  const workloads = await listWorkloads(deps, filter);
  if (!workloads.ok) return workloads;
  const apiKeys = await listApiKeys(deps, filter);
  if (!apiKeys.ok) return apiKeys;
  return ok({ workloads: workloads.value, apiKeys: apiKeys.value });
}

export async function adminSetWorkload(deps: Deps, input: { actor: Actor; clientId: string; enabled: boolean; reason?: string | null }): Promise<Result<WorkloadDetails>> {
  const allowed = await authorize(deps, input.actor, { fresh: true });
  if (!allowed.ok) return allowed;
  const by = actorName(input.actor);
  return input.enabled ? enableWorkload(deps, { clientId: input.clientId, by }) : disableWorkload(deps, { clientId: input.clientId, by, reason: input.reason ?? null });
}

export async function adminRevokeApiKey(deps: Deps, input: { actor: Actor; id: string; reason?: string | null }): Promise<Result<ApiKeyDetails>> {
  const allowed = await authorize(deps, input.actor, { fresh: true });
  if (!allowed.ok) return allowed;
  return revokeApiKey(deps, { id: input.id, by: actorName(input.actor), reason: input.reason ?? null });
}
