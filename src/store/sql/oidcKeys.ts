import type { Kysely, Selectable } from 'kysely';
import type { OidcKeyStore, SigningKeyRow } from '../ports.ts';
import type { Database, OidcSigningKeysTable } from '../schema.ts';

function toKey(row: Selectable<OidcSigningKeysTable>): SigningKeyRow {
  return {
    kid: row.kid,
    alg: row.alg,
    status: row.status === 'current' ? 'current' : 'retiring',
    privateJwk: row.private_jwk,
    publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    retireAt: row.retire_at === null ? null : Number(row.retire_at),
    activateAt: row.activate_at === null ? null : Number(row.activate_at),
  };
}

export class SqlOidcKeyStore implements OidcKeyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async listLive(now: number): Promise<SigningKeyRow[]> {
    const rows = await this.db
      .selectFrom('oidc_signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('status', '=', 'current'), eb('retire_at', '>', now)]))
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .execute();
    const keys = rows.map(toKey);
    return [...keys.filter((k) => k.status === 'current'), ...keys.filter((k) => k.status !== 'current')];
  }

  async insertCurrent(k: SigningKeyRow): Promise<boolean> {
    // The partial unique index (one current key per alg) makes this a no-op when another instance won.
    const inserted = await this.db
      .insertInto('oidc_signing_keys')
      .values({
        kid: k.kid,
        alg: k.alg,
        status: 'current',
        private_jwk: k.privateJwk,
        public_jwk: JSON.stringify(k.publicJwk),
        created_at: k.createdAt,
        retire_at: null,
        activate_at: k.activateAt,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('kid')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async retireCurrent(retireAt: number, alg: string): Promise<number> {
    const result = await this.db
      .updateTable('oidc_signing_keys')
      .set({ status: 'retiring', retire_at: retireAt })
      .where('status', '=', 'current')
      .where('alg', '=', alg)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async purgeRetired(now: number): Promise<number> {
    const result = await this.db.deleteFrom('oidc_signing_keys').where('status', '=', 'retiring').where('retire_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
