/**
 * `npm install`'s `prepare` step: compile `keybound/resource` (the one module other programs import)
 * to JavaScript with declarations under `dist/`. A production install without dev dependencies has
 * no TypeScript compiler; it skips the step and says so, since the server itself runs from source.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
let tsc: string;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.warn('keybound: typescript is not installed (production install), so keybound/resource was not compiled; `npm install` with dev dependencies builds it.');
  process.exit(0);
}
execFileSync(process.execPath, [tsc, '-p', resolve(root, 'tsconfig.resource.json')], { stdio: 'inherit', cwd: root });
