/**
 * The machine's floor for the rest of a passkey sign-in, measured in one process with nothing in
 * between: the statements a sign-in runs, straight on better-sqlite3 (prepared once, Keybound's
 * schema and pragmas, 10,000 seeded accounts), and the cryptography (ECDSA P-256 verification with
 * a cached key, SHA-256, a P-256 key import). Prints one JSON object of microseconds of CPU.
 *
 *   node --import tsx bench/floorLocal.ts <folder> [--quick]
 */
import { createHash, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { benchCredential, signingKey } from './authenticator.ts';
import { seedKeybound } from './seed.ts';

const cpuUs = (work: () => void, n: number): number => {
  work();
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
};

const folder = process.argv[2]!;
const quick = process.argv.includes('--quick');
const repeat = (n: number) => (quick ? Math.ceil(n / 20) : n);
const file = join(folder, 'floor.db');
const secret = randomBytes(32);
await seedKeybound({ databaseUrl: `sqlite:${file}`, secret, count: quick ? 1_000 : 10_000 });
const db = new BetterSqlite3(file);
// As src/store/db.ts opens it.
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
db.pragma('foreign_keys = ON');
const passkeys = db.prepare('select id, account_id, credential_id from passkeys').all() as { id: string; account_id: string; credential_id: string }[];
const q = {
  insertCeremony: db.prepare('insert into ceremonies (challenge_hash, kind, account_id, invitation_id, created_at, expires_at) values (?, ?, ?, ?, ?, ?)'),
  consumeCeremony: db.prepare('delete from ceremonies where challenge_hash = ? returning *'),
  passkey: db.prepare('select * from passkeys where credential_id = ?'),
  account: db.prepare('select * from accounts where id = ?'),
  begin: db.prepare('begin'),
  recordUse: db.prepare('update passkeys set sign_count = ?, backup_state = ?, last_used_at = ? where id = ? and sign_count = ? and status = ?'),
  session: db.prepare(
    'insert into sessions (id, account_id, secret_hash, aal, acr, amr, auth_time, passkey_id, created_at, last_seen_at, idle_expires_at, expires_at, ip, user_agent, revoked_at) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
  ),
  head: db.prepare('select last_seq, last_hash from audit_head where id = 1'),
  event: db.prepare('insert into audit_events (seq, at, type, outcome, reason, account_id, ip, user_agent, details, prev_hash, hash) values (?,?,?,?,?,?,?,?,?,?,?)'),
  moveHead: db.prepare('update audit_head set last_seq = ?, last_hash = ? where id = 1'),
  commit: db.prepare('commit'),
};
const counts = new Map<string, number>();
let i = 0;
/** The statements of one sign-in: options' insert, verify's consume and reads, and the one transaction. */
const signInStatements = () => {
  const p = passkeys[i++ % passkeys.length]!;
  const now = Date.now();
  const challenge = randomBytes(32).toString('base64url');
  q.insertCeremony.run(challenge, 'authentication', null, null, now, now + 300_000);
  q.consumeCeremony.get(challenge);
  q.passkey.get(p.credential_id);
  q.account.get(p.account_id);
  q.begin.run();
  const count = counts.get(p.id) ?? 0;
  q.recordUse.run(count + 1, 0, now, p.id, count, 'active');
  counts.set(p.id, count + 1);
  q.session.run(randomBytes(12).toString('base64url'), p.account_id, randomBytes(32).toString('base64url'), 2, 'urn:keybound:aal2:phr', '["pop","hwk","mfa"]', now, p.id, now, now, now + 3_600_000, now + 86_400_000, '127.0.0.1', 'bench', null);
  const head = q.head.get() as { last_seq: number; last_hash: string };
  const details = JSON.stringify({ method: 'passkey', session: 'abcdefghijklmnop', passkey: p.id, aal: 2, acr: 'urn:keybound:aal2:phr', amr: ['pop', 'hwk', 'mfa'] });
  const hash = createHash('sha256').update(head.last_hash).update(details).digest('base64url');
  q.event.run(Number(head.last_seq) + 1, now, 'sign_in', 'success', null, p.account_id, '127.0.0.1', 'bench', details, head.last_hash, hash);
  q.moveHead.run(Number(head.last_seq) + 1, hash);
  q.commit.run();
};
for (let w = 0; w < repeat(3_000); w++) signInStatements();
const sqliteUs = cpuUs(signInStatements, repeat(20_000));
db.close();

const credential = benchCredential(secret, 1);
const privateKey = signingKey(credential);
const jwk = { kty: 'EC', crv: 'P-256', x: Buffer.from(credential.publicPoint.subarray(1, 33)).toString('base64url'), y: Buffer.from(credential.publicPoint.subarray(33)).toString('base64url') };
const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
const data = randomBytes(37 + 32);
const signature = sign('sha256', data, privateKey);
const clientData = randomBytes(120);
process.stdout.write(
  `${JSON.stringify({
    sqliteSignInUs: sqliteUs,
    ecdsaVerifyUs: cpuUs(() => verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, signature), repeat(20_000)),
    keyImportUs: cpuUs(() => createPublicKey({ key: jwk, format: 'jwk' }), repeat(5_000)),
    sha256Us: cpuUs(() => createHash('sha256').update(clientData).digest(), repeat(50_000)),
  })}\n`,
);
