/**
 * `tsx bench/analyse.ts [--accounts 100000] [--batch 500]`: times takeover-path analysis
 * (`keybound analyse`, docs/paths.md) over a seeded SQLite database and reports its peak memory.
 *
 * The seeding process writes the accounts straight into the tables (Keybound's own migrations make
 * the schema): a mix of roles, passkeys (device-bound, syncable, attested), code factors, recovery
 * codes and pending links, so every kind of path and finding occurs. The analysis then runs in a
 * child process of its own (`--run <db>`), so its peak RSS is the analysis's alone. One JSON line
 * on stdout; BENCHMARKS.md holds the figures.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { loadConfig } from '../src/config/load.ts';
import { createDeps, openStore } from '../src/runtime.ts';
import { analyseAll } from '../src/services/paths/analyse.ts';
import { openDatabase } from '../src/store/db.ts';
import { migrate } from '../src/store/migrate.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const DATA_KEYS = `bench:${Buffer.alloc(32, 9).toString('base64')}`;
const log = (line: string) => process.stderr.write(`[bench analyse] ${line}\n`);

/** Deterministic pseudo-random numbers, so every run seeds the same mix. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function seed(path: string, count: number): Promise<number> {
  const started = performance.now();
  const db = openDatabase(`sqlite:${path}`);
  await migrate(db);
  await db.close();
  const raw = new BetterSqlite3(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = OFF');
  const now = Date.now();
  const account = raw.prepare('insert into accounts (id, username, display_name, role, status, user_handle, email, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const passkey = raw.prepare(
    "insert into passkeys (id, account_id, credential_id, public_key, alg, sign_count, transports, aaguid, backup_eligible, backup_state, user_verified, attestation_format, attestation_trusted, nickname, status, flagged_reason, created_at, last_used_at) values (?, ?, ?, 'x', -7, 0, '[]', '00000000-0000-0000-0000-000000000000', ?, 0, ?, 'none', ?, ?, 'active', null, ?, null)",
  );
  const authenticator = raw.prepare("insert into authenticators (id, account_id, kind, status, secret, totp_params, destination, last_step, failures, disabled_reason, created_at, confirmed_at, last_used_at) values (?, ?, ?, 'active', null, null, ?, null, 0, null, ?, ?, null)");
  const code = raw.prepare('insert into recovery_codes (id, authenticator_id, code_hash, used_at) values (?, ?, ?, ?)');
  const link = raw.prepare('insert into invitations (id, account_id, secret_hash, created_by, created_at, expires_at, used_at, kind, max_aal, passkey_id) values (?, ?, ?, ?, ?, ?, null, ?, ?, null)');
  const random = rng(13);
  const insert = raw.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const id = `acct-${i}`;
      const role = i % 50 === 0 ? 'admin' : 'member';
      account.run(id, `user${String(i).padStart(7, '0')}`, `User ${i}`, role, random() < 0.97 ? 'active' : 'invited', randomBytes(8).toString('hex'), random() < 0.6 ? `u${i}@example.test` : null, now, now);
      const keys = random() < 0.7 ? 1 : 2;
      for (let k = 0; k < keys; k++) {
        const synced = random() < 0.4 ? 1 : 0;
        passkey.run(`pk-${i}-${k}`, id, `cred-${i}-${k}`, synced, random() < 0.98 ? 1 : 0, !synced && random() < 0.1 ? 1 : 0, `Key ${k}`, now);
      }
      if (random() < 0.2) authenticator.run(`totp-${i}`, id, 'totp', null, now, now);
      if (random() < 0.05) authenticator.run(`sms-${i}`, id, 'sms_code', '+441234567890', now, now);
      if (random() < 0.05) authenticator.run(`email-${i}`, id, 'email_code', `u${i}@example.test`, now, now);
      if (random() < 0.3) {
        authenticator.run(`rc-${i}`, id, 'recovery_codes', null, now, now);
        for (let c = 0; c < 10; c++) code.run(`rc-${i}-${c}`, `rc-${i}`, `hash-${i}-${c}`, c < 3 ? now : null);
      }
      if (random() < 0.02) link.run(`link-${i}`, id, 'h', 'bench', now, now + 3_600_000, random() < 0.5 ? 'device' : 'enrolment', 2);
    }
  });
  for (let from = 0; from < count; from += 5000) insert(from, Math.min(count, from + 5000));
  raw.close();
  return (performance.now() - started) / 1000;
}

async function run(path: string, batch: number): Promise<void> {
  const config = loadConfig({ KEYBOUND_DATABASE_URL: `sqlite:${path}`, KEYBOUND_DATA_KEYS: DATA_KEYS, KEYBOUND_LOG_LEVEL: 'silent' });
  const { db, store } = await openStore(config);
  const deps = await createDeps({ config, store, log: { warn: () => undefined } });
  // Sampled as the analysis goes (SQLite answers synchronously, so a timer would never fire).
  let heapPeak = 0;
  let seen = 0;
  const sample = () => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed));
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const summary = await analyseAll(deps, { batch, onAnalysis: () => ++seen % 1000 === 0 && sample() });
  const seconds = (performance.now() - started) / 1000;
  sample();
  await db.close();
  const accounts = summary.roles.reduce((n, r) => n + r.accounts, 0);
  process.stdout.write(
    `${JSON.stringify({
      accounts,
      batch,
      seconds: Math.round(seconds * 100) / 100,
      accountsPerSecond: Math.round(accounts / seconds),
      rssBeforeMb: Math.round(rssBefore / 2 ** 20),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      peakHeapMb: Math.round(heapPeak / 2 ** 20),
      below: summary.below.length,
      roles: summary.roles,
    })}\n`,
  );
}

if (args[0] === '--run') {
  await run(args[1]!, Number(option('--batch', '500')));
} else {
  const count = Number(option('--accounts', '100000'));
  const batch = option('--batch', '500');
  const dir = mkdtempSync(join(tmpdir(), 'keybound-bench-analyse-'));
  const path = join(dir, 'bench.db');
  try {
    log(`seeding ${count} accounts into ${path}`);
    const seeded = await seed(path, count);
    log(`seeded in ${seeded.toFixed(1)} s; analysing in a child process`);
    const child = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--run', path, '--batch', batch], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`analysis failed with status ${child.status}`);
    const result = JSON.parse(child.stdout.trim()) as Record<string, unknown>;
    process.stdout.write(`${JSON.stringify({ scenario: 'analyse', db: 'sqlite', seedSeconds: Math.round(seeded * 10) / 10, node: process.version, ...result })}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
