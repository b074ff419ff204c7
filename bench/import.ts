/**
 * Import of many accounts (issue 17, "Bench"): `npx tsx bench/import.ts [--rows 100000] [--db sqlite|postgres]
 * [--postgres-url postgres://…]`. Writes a CSV of `--rows` accounts (every account a bcrypt hash, every
 * second one a TOTP seed, every third a phone), then imports it on a fresh database in this process
 * with the functions `keybound import csv` runs (readCsv, importAccounts), and prints the time, the
 * rate and the peak resident memory (getrusage maxRSS, the whole process). A second run of the same
 * file (all unchanged) is timed too.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { base32Encode } from '../src/codes/base32.ts';
import { loadConfig } from '../src/config/load.ts';
import { createDeps, openStore } from '../src/runtime.ts';
import { readCsv } from '../src/services/import/csv.ts';
import { importAccounts } from '../src/services/import/importAccounts.ts';
import { freshDatabase, removeRunFolder, runFolder } from './databases.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const rows = Number(arg('rows', '100000'));
const dbKind = arg('db', 'sqlite') as 'sqlite' | 'postgres';
const postgresUrl = arg('postgres-url', process.env.KEYBOUND_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test');

const hash = bcrypt.hashSync('bench-password', 10);
const lines = ['username,email,display_name,role,phone,password_hash,totp_secret'];
for (let i = 0; i < rows; i++) {
  const name = `user${String(i).padStart(6, '0')}`;
  lines.push([name, `${name}@example.test`, `User ${i}`, i % 50 === 0 ? 'admin' : 'member', i % 3 === 0 ? `+1415555${String(i % 10000).padStart(4, '0')}` : '', hash, i % 2 === 0 ? base32Encode(randomBytes(20)) : ''].join(','));
}
const file = join(runFolder(), 'import.csv');
writeFileSync(file, `${lines.join('\n')}\n`);

const database = await freshDatabase({ db: dbKind, postgresUrl, label: 'import', pool: 4 });
const config = loadConfig({ KEYBOUND_DATABASE_URL: database.url, KEYBOUND_DATA_KEYS: `bench:${randomBytes(32).toString('base64url')}`, KEYBOUND_LOG_LEVEL: 'error' });
const { db, store } = await openStore(config);
const deps = await createDeps({ config, store });
const rssBefore = process.resourceUsage().maxRSS;

const run = async () => {
  const started = performance.now();
  const report = await importAccounts(deps, { source: 'csv', records: readCsv(readFileSync(file, 'utf8')), dryRun: false });
  return { seconds: (performance.now() - started) / 1000, report };
};
const first = await run();
const rssAfterFirst = process.resourceUsage().maxRSS;
const second = await run();
await db.close();
await database.drop();
removeRunFolder();

const mib = (kib: number) => (kib / 1024).toFixed(0);
process.stdout.write(
  `${JSON.stringify({
    rows,
    db: dbKind,
    node: process.version,
    first: { seconds: Number(first.seconds.toFixed(1)), perSecond: Math.round(rows / first.seconds), imported: first.report.imported, problems: first.report.problems.length },
    rerun: { seconds: Number(second.seconds.toFixed(1)), unchanged: second.report.unchanged, imported: second.report.imported },
    peakRssMiB: { beforeImport: Number(mib(rssBefore)), afterFirst: Number(mib(rssAfterFirst)), end: Number(mib(process.resourceUsage().maxRSS)) },
  })}\n`,
);
