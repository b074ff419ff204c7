import type { Deps } from '../services/deps.ts';
import type { ProviderClientRow } from '../store/ports.ts';
import { openClientMetadata } from './clients.ts';

type Jwks = { keys: Record<string, unknown>[] };

interface Entry {
  /** The stored text the entry was built from: a row that differs in any byte is built again. */
  readonly metadataJson: string;
  readonly previousJwksJson: string | null;
  readonly metadata: Record<string, unknown>;
  readonly previousKeys: readonly Record<string, unknown>[];
}

/** How many clients' parsed metadata one process keeps (the least recently built goes first). */
export const PROVIDER_CLIENT_CACHE_SIZE = 1000;

/**
 * The metadata oidc-provider gets for a client, for each request the client authenticates.
 *
 * Every call reads the client's row (one indexed read that also carries the workload's gate), so a
 * disabled workload, an owner no longer active, changed metadata or a rotation is seen at the very
 * next request, on every instance: nothing is trusted from memory but the work of turning the same
 * stored text into objects again (JSON parsing, opening a sealed shared secret). The row's text is
 * the version: an entry is used only when the row's metadata and overlap keys are byte-for-byte the
 * ones it was built from. oidc-provider then keeps one Client, with its imported keys, per distinct
 * metadata (a hash of it), so the client's keys are not imported again either.
 */
export class ProviderClients {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly deps: Deps,
    private readonly capacity = PROVIDER_CLIENT_CACHE_SIZE,
  ) {}

  async find(clientId: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.deps.store.oidcClients.findForProvider(clientId);
    if (!row) {
      this.entries.delete(clientId);
      return undefined;
    }
    const gate = row.workload;
    // A workload that is disabled, or whose owner is not active, is not a client at all (docs/nhi.md).
    if (gate && (gate.status !== 'active' || gate.ownerStatus !== 'active')) return undefined;
    const entry = this.entry(row);
    const overlap = gate !== null && entry.previousKeys.length > 0 && gate.previousJwksUntil !== null && gate.previousJwksUntil > this.deps.clock();
    if (!overlap) return { ...entry.metadata };
    // During a rotation's overlap the replaced keys are valid too; after it they are dropped.
    const current = (entry.metadata.jwks as Jwks | undefined)?.keys ?? [];
    return { ...entry.metadata, jwks: { keys: [...current, ...entry.previousKeys] } };
  }

  private entry(row: ProviderClientRow): Entry {
    const previousJwksJson = row.workload?.previousJwksJson ?? null;
    const cached = this.entries.get(row.clientId);
    if (cached && cached.metadataJson === row.metadataJson && cached.previousJwksJson === previousJwksJson) return cached;
    const stored = JSON.parse(row.metadataJson) as Record<string, unknown>;
    const metadata = openClientMetadata(this.deps, { clientId: row.clientId, metadata: stored });
    const previousKeys = previousJwksJson === null ? [] : ((JSON.parse(previousJwksJson) as Jwks).keys ?? []);
    const entry: Entry = { metadataJson: row.metadataJson, previousJwksJson, metadata, previousKeys };
    this.entries.delete(row.clientId);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(row.clientId, entry);
    return entry;
  }
}
