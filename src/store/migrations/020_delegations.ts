import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/** RFC 8693 grant type agents use to exchange a person's token (oidc/tokenExchange.ts). */
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/**
 * Delegations (issue 15, docs/nhi.md): a person lets an agent workload (`workloads.kind = 'agent'`,
 * same `client_id`) act for them, with at most these scopes (a JSON list), until `expires_at`
 * (epoch ms), or until revoked. Agents made before this migration are also allowed the token
 * exchange grant, as `workloads create --kind agent` allows it from now on.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('delegations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoked_reason', 'text')
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.createIndex('delegations_account_client').on('delegations').columns(['account_id', 'client_id']).execute();
  await db.schema.createIndex('delegations_client').on('delegations').column('client_id').execute();

  const k = db as Kysely<any>;
  const agents = await k
    .selectFrom('oidc_clients as c')
    .innerJoin('workloads as w', 'w.client_id', 'c.client_id')
    .select(['c.client_id', 'c.metadata'])
    .where('w.kind', '=', 'agent')
    .execute();
  for (const agent of agents as { client_id: string; metadata: string }[]) {
    const metadata = JSON.parse(agent.metadata) as { grant_types?: string[] };
    const grants = Array.isArray(metadata.grant_types) ? metadata.grant_types : [];
    if (grants.includes(TOKEN_EXCHANGE)) continue;
    await k.updateTable('oidc_clients').set({ metadata: JSON.stringify({ ...metadata, grant_types: [...grants, TOKEN_EXCHANGE] }) }).where('client_id', '=', agent.client_id).execute();
  }
}
