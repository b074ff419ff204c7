import { ok, type Result } from '../core/errors.ts';
import { authorize, type Actor } from '../services/adminAccess.ts';
import type { Deps } from '../services/deps.ts';
import { describeStream, streamStatus } from './streams.ts';

/** Every Shared Signals stream, each as its receiver reads it (SSF 1.0 §8.1.1, §8.1.2.1) with its delivery state, for an administrator. */
export async function listStreamsForAdmin(deps: Deps, input: { actor: Actor }): Promise<Result<Record<string, unknown>[]>> {
  const allowed = await authorize(deps, input.actor, { fresh: false });
  if (!allowed.ok) return allowed;
  const out: Record<string, unknown>[] = [];
  for (const client of await deps.store.oidcClients.list()) {
    for (const stream of await deps.store.ssfStreams.listByClient(client.clientId)) {
      out.push({ client_name: client.name, created_at: new Date(stream.createdAt).toISOString(), ...describeStream(deps, stream), ...(await streamStatus(deps, stream)) });
    }
  }
  return ok(out);
}
