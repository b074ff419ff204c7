/**
 * Seeds the Better Auth peer: its tables from its own migration planner (what `npx auth migrate`
 * runs), then N users with one passkey each, the same derived ES256 credentials the Keybound side
 * gets, in the row format Better Auth's Kysely adapter writes on SQLite (ISO dates, 0/1 booleans,
 * the COSE key in standard base64).
 */
import { randomUUID } from 'node:crypto';
import { getMigrations } from 'better-auth/db/migration';
import { deriveCredentials } from '../../derive.ts';
import { createPeerAuth } from './auth.ts';

const id = () => randomUUID().replace(/-/g, '');

export async function seedBetterAuth(input: { databasePath: string; baseURL: string; rpID: string; secret: Uint8Array; count: number }): Promise<{ accounts: number; seconds: number }> {
  const started = performance.now();
  const { auth, sqlite } = createPeerAuth({ ...input, forSeeding: true });
  try {
    const { runMigrations } = await getMigrations(auth.options);
    await runMigrations();
    sqlite.pragma('synchronous = OFF');
    const now = new Date().toISOString();
    const BATCH = 500;
    const statement = (table: string, columns: string[], rows: number) =>
      sqlite.prepare(`insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${Array.from({ length: rows }, () => `(${columns.map(() => '?').join(', ')})`).join(', ')}`);
    const userColumns = ['id', 'name', 'email', 'emailVerified', 'image', 'createdAt', 'updatedAt'];
    const passkeyColumns = ['id', 'name', 'publicKey', 'userId', 'credentialID', 'counter', 'deviceType', 'backedUp', 'transports', 'createdAt', 'aaguid'];
    const insert = (table: string, columns: string[], rows: unknown[][]) => {
      for (let i = 0; i < rows.length; i += BATCH) {
        const slice = rows.slice(i, i + BATCH);
        statement(table, columns, slice.length).run(slice.flat());
      }
    };
    const write = sqlite.transaction((users: unknown[][], passkeys: unknown[][]) => {
      insert('user', userColumns, users);
      insert('passkey', passkeyColumns, passkeys);
    });
    await deriveCredentials(input.secret, input.count, (derived) => {
      const users: unknown[][] = [];
      const passkeys: unknown[][] = [];
      for (const [index, credentialId, , cose] of derived) {
        const userId = id();
        users.push([userId, `Bench ${index}`, `bench-${index}@bench.invalid`, 0, null, now, now]);
        passkeys.push([id(), 'Bench key', Buffer.from(cose, 'base64url').toString('base64'), userId, credentialId, 0, 'singleDevice', 0, 'internal', now, '00000000-0000-0000-0000-000000000000']);
      }
      write(users, passkeys);
    });
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    sqlite.close();
  }
  return { accounts: input.count, seconds: (performance.now() - started) / 1000 };
}
