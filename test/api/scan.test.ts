/**
 * `keybound scan` (issue 15, docs/nhi.md) on SQLite and PostgreSQL: a fixture tree made in a temp
 * folder and a temp git repository with planted keys (live, revoked, unknown to this installation)
 * and look-alikes with bad checksums; node_modules, .git and binary files skipped; other secrets
 * through secretlint's recommended preset; `revoke` revokes live keys and audits where they were
 * found; SARIF 2.1.0 with the required structure, and never a secret in any report.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf } from '../../src/core/nhi/apiKeyFormat.ts';
import { createApiKey, revokeApiKey } from '../../src/services/nhi/apiKeys.ts';
import { toSarif } from '../../src/services/nhi/scan/sarif.ts';
import { scan } from '../../src/services/nhi/scan/scan.ts';
import { enrol, ManualClock, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';

const alnum = (n: number) => randomBytes(n * 2).toString('base64').replace(/[^0-9A-Za-z]/g, '').slice(0, n);
/** A well-formed key with a right checksum that this installation never issued. */
const unknownKey = () => {
  const body = `kb_live_${alnum(30)}`;
  return `${body}_${checksumOf(body)}`;
};
/** The same shape with a wrong checksum: a scanner must not report it. */
const lookAlike = (key: string) => `${key.slice(0, -6)}${key.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'}`;
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.test', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' }).trim();

describe.each(BACKENDS)('keybound scan on %s', (backend) => {
  let t: TestApp;
  let dir: string;
  const keys = async (n: number) => {
    const out: { id: string; key: string }[] = [];
    for (let i = 0; i < n; i++) {
      const made = await createApiKey(t.deps, { owner: 'olive', name: `key ${i}`, scopes: ['read'], by: 'test' });
      if (!made.ok) throw new Error(made.code);
      out.push(made.value);
    }
    return out;
  };

  beforeAll(async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()) });
    await enrol(t, 'olive');
    dir = mkdtempSync(join(tmpdir(), 'keybound-scan-'));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds planted keys by format and checksum in a tree, says which are live, skips look-alikes, node_modules, .git and binary files', async () => {
    const root = join(dir, 'tree');
    const [live, revoked] = await keys(2);
    await revokeApiKey(t.deps, { id: revoked!.id, by: 'test' });
    const stranger = unknownKey();
    const github = `ghp_${alnum(36)}`;
    mkdirSync(join(root, 'src'), { recursive: true });
    mkdirSync(join(root, 'docs'));
    mkdirSync(join(root, 'node_modules', 'dep'), { recursive: true });
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, 'src', 'config.ts'), `// settings\nexport const client = {\n  apiKey: '${live!.key}',\n};\n`);
    writeFileSync(join(root, 'docs', 'setup.md'), `Old key: ${revoked!.key}\nExample: ${lookAlike(live!.key)}\nOther: ${stranger}\nglued${live!.key}\n`);
    writeFileSync(join(root, 'docs', 'ci.env'), `GITHUB_TOKEN=${github}\n`);
    writeFileSync(join(root, 'node_modules', 'dep', 'index.js'), `module.exports = '${live!.key}';\n`);
    writeFileSync(join(root, '.git', 'config'), `${live!.key}\n`);
    writeFileSync(join(root, 'image.bin'), Buffer.concat([Buffer.from([0x89, 0x50, 0x00, 0x00]), Buffer.from(live!.key)]));

    const report = await scan(t.deps, { path: root, git: false, revoke: false, otherSecrets: true, by: 'test' });
    const found = report.findings.map((f) => [f.path, f.line, f.column, f.ruleId, f.state]);
    expect(found).toEqual(
      expect.arrayContaining([
        ['src/config.ts', 3, 12, 'keybound-api-key', 'live'],
        ['docs/setup.md', 1, 10, 'keybound-api-key', 'revoked'],
        ['docs/setup.md', 3, 8, 'keybound-api-key', 'unknown'],
        ['docs/ci.env', 1, 14, '@secretlint/secretlint-rule-github', 'unverified'],
      ]),
    );
    expect(found).toHaveLength(4);
    expect(report).toMatchObject({ files: 3, skipped: 1, failed: true });
    expect(report.findings.find((f) => f.state === 'live')?.keyId).toBe(live!.id);
    // No report carries a secret.
    const everything = JSON.stringify([report, toSarif(report.findings, '0.0.0')]);
    for (const secret of [live!.key, revoked!.key, stranger, github]) expect(everything).not.toContain(secret);
  });

  it('with git, finds keys in every commit\'s added lines (even when removed since), and revokes live ones with an audit event', async () => {
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    const [leaked, kept] = await keys(2);
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'deploy.sh'), `#!/bin/sh\nexport KB=${leaked!.key}\ncurl -H "x-api-key: ${lookAlike(kept!.key)}" https://api\n`);
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'deploy script');
    const first = git(repo, 'rev-parse', 'HEAD');
    writeFileSync(join(repo, 'deploy.sh'), '#!/bin/sh\nexport KB="$KEYBOUND_KEY"\n');
    writeFileSync(join(repo, 'notes.txt'), `one\ntwo\nthree ${kept!.key}\n`);
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'use the environment');
    const second = git(repo, 'rev-parse', 'HEAD');

    const tree = await scan(t.deps, { path: repo, git: false, revoke: false, otherSecrets: false, by: 'test' });
    expect(tree.findings.map((f) => [f.path, f.line, f.state])).toEqual([['notes.txt', 3, 'live']]);

    const history = await scan(t.deps, { path: repo, git: true, revoke: true, otherSecrets: false, by: 'test' });
    expect(history.commits).toBe(2);
    expect(history.findings.map((f) => [f.path, f.line, f.column, f.commit, f.state, f.revoked])).toEqual(
      expect.arrayContaining([
        ['notes.txt', 3, 7, null, 'live', true],
        ['deploy.sh', 2, 11, first, 'live', true],
        ['notes.txt', 3, 7, second, 'live', true],
      ]),
    );
    expect(history.findings).toHaveLength(3);
    expect(history.failed).toBe(true);
    const revocations = await t.store.audit.list({ type: 'api_key.revoked', limit: 10 });
    const leakedEvent = revocations.find((e) => e.details.id === leaked!.id);
    expect(leakedEvent?.details.reason).toBe(`found by keybound scan at deploy.sh:2 in commit ${first}`);
    expect(revocations.filter((e) => e.details.id === kept!.id)).toHaveLength(1);

    // Now nothing found is live: CI passes.
    const again = await scan(t.deps, { path: repo, git: true, revoke: true, otherSecrets: false, by: 'test' });
    expect(again.findings.every((f) => f.state === 'revoked' && !f.revoked)).toBe(true);
    expect(again.failed).toBe(false);
  });

  it('SARIF 2.1.0: version, runs[].tool.driver.name and rules, results with ruleId, ruleIndex, level, message and locations', async () => {
    const [live] = await keys(1);
    const root = join(dir, 'sarif');
    mkdirSync(root);
    writeFileSync(join(root, 'a file.txt'), `x\n  ${live!.key}\n`);
    const report = await scan(t.deps, { path: root, git: false, revoke: false, otherSecrets: false, by: 'test' });
    const sarif = toSarif(report.findings, '1.2.3') as {
      $schema: string;
      version: string;
      runs: { tool: { driver: { name: string; version: string; rules: { id: string; shortDescription: { text: string } }[] } }; results: Record<string, any>[] }[];
    };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toMatch(/sarif-2\.1\.0/);
    expect(sarif.runs).toHaveLength(1);
    const [run] = sarif.runs;
    expect(run!.tool.driver).toMatchObject({ name: 'keybound scan', version: '1.2.3' });
    expect(run!.results).toHaveLength(1);
    for (const result of run!.results) {
      expect(typeof result.ruleId).toBe('string');
      expect(run!.tool.driver.rules[result.ruleIndex]!.id).toBe(result.ruleId);
      expect(['error', 'warning', 'note']).toContain(result.level);
      expect(typeof result.message.text).toBe('string');
      expect(result.locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'a%20file.txt' }, region: { startLine: 2, startColumn: 3 } });
    }
    expect(run!.results[0]!.level).toBe('error');
    expect(JSON.stringify(sarif)).not.toContain(live!.key);
  });
});
