import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * OpenID client policy (OWASP ASVS 5.0 6.3.3, 10.4.11, 10.7.1; src/oidc/clientPolicy.ts): every
 * client now has a minimum level, scope and resource allowlists, and is first-party or not. Clients
 * made before this migration get them written out, the strict way (README "OpenID Connect"):
 *
 * - minimum level `urn:keybound:aal2:phr` (phishing-resistant, the default of new clients);
 * - not first-party: each person is asked to consent once;
 * - scopes `openid profile email` for clients with the authorization_code grant, plus
 *   `offline_access` with refresh_token; none for client-credentials-only clients;
 * - no resources: a client that asked tokens for an API must be given it again, with
 *   `keybound clients update <client_id> --resource <uri> --scope <scope>`.
 *
 * Values already present are kept. The metadata is JSON text, read and written here row by row.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  const rows = await sql<{ client_id: string; metadata: string }>`select client_id, metadata from oidc_clients`.execute(db);
  for (const row of rows.rows) {
    const metadata = JSON.parse(row.metadata) as Record<string, unknown>;
    const grants = Array.isArray(metadata.grant_types) ? metadata.grant_types.map(String) : [];
    const scopes = grants.includes('authorization_code') ? ['openid', 'profile', 'email', ...(grants.includes('refresh_token') ? ['offline_access'] : [])] : [];
    const updated = {
      keybound_min_acr: 'urn:keybound:aal2:phr',
      keybound_first_party: false,
      keybound_scopes: scopes,
      keybound_resources: [],
      ...metadata,
    };
    await sql`update oidc_clients set metadata = ${JSON.stringify(updated)} where client_id = ${row.client_id}`.execute(db);
  }
}
