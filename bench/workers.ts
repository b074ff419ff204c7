import { Worker } from 'node:worker_threads';

const TSX = import.meta.resolve('tsx/esm/api');

/**
 * A worker thread running a TypeScript module. Worker threads do not inherit tsx's module hooks
 * on Node.js 20, so a two-line bootstrap registers them before importing the module.
 */
export function tsWorker(module: URL, workerData: unknown): Worker {
  const bootstrap = `import(${JSON.stringify(TSX)}).then(({ register }) => { register(); return import(${JSON.stringify(module.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
