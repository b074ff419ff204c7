import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

let cached: Promise<string> | undefined;

/** Bundles the browser script (client.ts with @simplewebauthn/browser) once per process, in memory. */
export function bundleClientScript(): Promise<string> {
  cached ??= build({
    entryPoints: [fileURLToPath(new URL('./client.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    target: ['chrome109', 'firefox115', 'safari16'],
    minify: true,
    write: false,
    legalComments: 'none',
  }).then((result) => result.outputFiles[0]!.text);
  return cached;
}
