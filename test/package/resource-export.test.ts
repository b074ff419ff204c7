/**
 * `keybound/resource` as an API's code would load it: compiled JavaScript with declarations, through
 * the package's `exports`, in plain Node.js (no TypeScript loader) and in a strict TypeScript project.
 * `npm install` builds it (`prepare`); this test runs that step again so it checks the tree it runs on.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules/.bin/tsc');
let consumer: string;

beforeAll(async () => {
  await run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/build-resource.ts')], { cwd: ROOT });
  consumer = await mkdtemp(join(tmpdir(), 'keybound-consumer-'));
  await mkdir(join(consumer, 'node_modules'));
  await symlink(ROOT, join(consumer, 'node_modules/keybound'), 'dir');
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ type: 'module', private: true }));
}, 60_000);

afterAll(async () => {
  if (consumer) await rm(consumer, { recursive: true, force: true });
});

describe('keybound/resource as a package export', () => {
  it('loads in plain Node.js and answers a step-up challenge', async () => {
    const script = [
      "import { createVerifier, challengeHeader, ACR } from 'keybound/resource';",
      "import { createLocalJWKSet } from 'jose';",
      "const v = createVerifier({ issuer: 'https://id.example.test/oidc', audience: 'https://api.example.test/', jwks: createLocalJWKSet({ keys: [] }) });",
      "const r = await v.verify({ method: 'GET', url: 'https://api.example.test/x', authorization: 'Bearer not.a.jwt' }, { acr: ACR.aal3 });",
      "console.log(JSON.stringify({ ok: r.ok, status: r.status, error: r.error, header: challengeHeader({ scheme: 'Bearer', error: 'insufficient_user_authentication', description: 'A stronger sign-in is needed.', acrValues: [ACR.aal3], maxAge: 300 }) }));",
    ].join('\n');
    await writeFile(join(consumer, 'use.mjs'), script);
    // Resolving 'jose' from the consumer goes through Keybound's own dependencies.
    await symlink(join(ROOT, 'node_modules/jose'), join(consumer, 'node_modules/jose'), 'dir');
    const { stdout } = await run(process.execPath, ['use.mjs'], { cwd: consumer, env: { PATH: process.env.PATH ?? '' } });
    const out = JSON.parse(stdout.trim()) as { ok: boolean; status: number; error: string; header: string };
    expect(out).toMatchObject({ ok: false, status: 401, error: 'invalid_token' });
    expect(out.header).toBe('Bearer error="insufficient_user_authentication", error_description="A stronger sign-in is needed.", acr_values="urn:keybound:aal3", max_age="300"');
  }, 30_000);

  it('type-checks in a strict TypeScript project without Keybound’s compiler settings', async () => {
    await writeFile(join(consumer, 'api.ts'), [
      "import { createVerifier, requireAccessToken, type Requirement, type Verification } from 'keybound/resource';",
      "const need: Requirement = { acr: 'urn:keybound:aal3', maxAgeS: 300 };",
      "const verifier = createVerifier({ issuer: 'https://id.example.test/oidc', audience: 'https://api.example.test/' });",
      "export const guard = requireAccessToken({ verifier, publicOrigin: 'https://api.example.test' })(need);",
      "export async function check(authorization: string): Promise<Verification> { return verifier.verify({ method: 'GET', url: 'https://api.example.test/x', authorization }, need); }",
      "// @ts-expect-error a requirement's maximum age is a number of seconds",
      "export const wrong: Requirement = { maxAgeS: '300' };",
    ].join('\n'));
    await writeFile(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: [] },
      files: ['api.ts'],
    }));
    const result = await run(TSC, ['-p', consumer], { cwd: consumer }).then(() => ({ code: 0, out: '' }), (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }));
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  }, 60_000);
});
