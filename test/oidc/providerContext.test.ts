/**
 * oidc-provider's request context storage is a pass-through in Keybound (src/oidc/providerContext.ts):
 * on Node.js 20 the storage would otherwise turn on async_hooks' promise hooks for the whole process,
 * every sign-in included, for a context Keybound never reads.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assertNoContextReader } from '../../src/oidc/providerContext.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const at = (path: string) => JSON.stringify(join(ROOT, path));

function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name), extension) : entry.name.endsWith(extension) ? [join(dir, entry.name)] : [],
  );
}

describe('the provider request context', () => {
  it('has only the readers Keybound accounts for in the installed oidc-provider, and Keybound reads none', () => {
    const lib = join(ROOT, 'node_modules/oidc-provider/lib');
    const uses = Object.fromEntries(
      filesUnder(lib, '.js')
        .map((file) => [relative(lib, file), readFileSync(file, 'utf8')] as const)
        .filter(([, text]) => /from '[^']*\bals\.js'/.test(text))
        .map(([file, text]) => [file, text.match(/als\.\w+\([^)]*\)[^;\n]*/g)]),
    );
    // A new reader in an upgrade of oidc-provider fails here: decide whether Keybound needs it first.
    expect(uses).toEqual({
      'helpers/initialize_app.js': ['als.run(ctx, () => next())'],
      'provider.js': ['als.getStore()'],
      'helpers/client_id_metadata_document.js': ['als.getStore()'],
      'models/base_token.js': ['als.getStore(), this, this.#client)'],
      'models/formats/opaque.js': ['als.getStore(), token))', 'als.getStore(), token),'],
      'models/formats/jwt.js': ['als.getStore(), sub, client)', 'als.getStore(), token, structuredToken)'],
    });
    // Those hand the context to configuration functions: Keybound's ignore it, or set none.
    const configuration = readFileSync(join(ROOT, 'src/oidc/configuration.ts'), 'utf8');
    expect(configuration).not.toMatch(/pairwiseIdentifier|customizers|bitsOfOpaqueRandomness|clientIdMetadataDocument/);
    expect(configuration).toMatch(/extraTokenClaims: async \(_ctx, token\) =>/);
    const ttl = /ttl: \{\n([\s\S]*?)\n    \},/.exec(configuration)?.[1] ?? '';
    const lifetimeFunctions = ttl.match(/\(([^)]*)\) =>/g) ?? [];
    expect(lifetimeFunctions.length).toBeGreaterThanOrEqual(3);
    for (const f of lifetimeFunctions) expect(f).toMatch(/^\(_ctx\b/);
    // And Keybound's own code never reads it: only the pass-through imports the storage.
    const readers = filesUnder(join(ROOT, 'src'), '.ts')
      .filter((file) => /Provider\.ctx\b|helpers\/als\.js/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file))
      .sort();
    expect(readers).toEqual(['src/oidc/providerContext.ts', 'src/oidc/providerInternals.d.ts']);
  });

  it('refuses a provider configuration that turns on the feature that reads it', () => {
    expect(() => assertNoContextReader({ features: { clientIdMetadataDocument: { enabled: true } } } as never)).toThrow(/clientIdMetadataDocument/);
    expect(() => assertNoContextReader({ features: { clientIdMetadataDocument: { enabled: false } } } as never)).not.toThrow();
  });

  it('leaves no promise hooks on after a server has served OpenID Connect and a sign-in', async () => {
    // In a child process: vitest runs tests inside storage of its own, which turns the hooks on.
    // The probe: with promise hooks on, each promise gets an async id of its own, so the id seen
    // after an await differs from the one before it; with them off it does not.
    const script = `
      import { AsyncLocalStorage, executionAsyncId } from 'node:async_hooks';
      import { createWorkload } from ${at('src/services/nhi/workloads.ts')};
      import { enrol, ManualClock, signIn, startTestApp } from ${at('test/helpers/app.ts')};
      import { clientCredentials, machineKey } from ${at('test/helpers/machines.ts')};
      const hooksOn = async () => { const before = executionAsyncId(); await null; return executionAsyncId() !== before; };
      const report = { before: await hooksOn() };
      const resource = 'https://api.example.test/';
      const t = await startTestApp({ clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_RESOURCES: resource } });
      try {
        report.discovery = (await t.get('/oidc/.well-known/openid-configuration')).statusCode;
        const { authenticator } = await enrol(t, 'olive');
        const key = await machineKey();
        const w = await createWorkload(t.deps, { name: 'Sync', owner: 'olive', kind: 'service', jwks: key.jwks, audiences: [resource], scopes: ['read'], by: 'test' }, async () => null);
        if (!w.ok) throw new Error(w.code);
        report.token = (await clientCredentials(t, w.value.client_id, key.privateKey, { resource, scope: 'read' })).statusCode;
        report.signIn = (await signIn(t, authenticator)).statusCode;
        report.afterOidc = await hooksOn();
      } finally {
        await t.close();
      }
      // The control: any storage that runs once turns them on, and the probe sees it.
      new AsyncLocalStorage().run({}, () => undefined);
      report.afterOwnStorage = await hooksOn();
      console.log(JSON.stringify(report));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, timeout: 120_000 });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(report).toEqual({ before: false, discovery: 200, token: 200, signIn: 200, afterOidc: false, afterOwnStorage: true });
  });
});
