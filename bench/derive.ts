import { availableParallelism } from 'node:os';
import { tsWorker } from './workers.ts';
import { benchCredential } from './authenticator.ts';
import type { DerivedRow } from './deriveWorker.ts';

export type { DerivedRow } from './deriveWorker.ts';

/**
 * Derives the credentials of accounts 0..count-1 in chunks, on worker threads when there are many
 * (one P-256 scalar multiplication each), and hands each chunk to `onChunk` as it arrives (in no
 * particular order). `onChunk` runs on this thread, one chunk at a time.
 */
export async function deriveCredentials(
  secret: Uint8Array,
  count: number,
  onChunk: (rows: DerivedRow[]) => void | Promise<void>,
  options: { chunk?: number; workers?: number } = {},
): Promise<void> {
  const chunk = options.chunk ?? 10_000;
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), Math.ceil(count / 20_000)));
  if (workers === 1 && count <= 20_000) {
    for (let start = 0; start < count; start += chunk) {
      const rows: DerivedRow[] = [];
      for (let i = start; i < Math.min(count, start + chunk); i++) {
        const c = benchCredential(secret, i);
        rows.push([i, c.credentialId, c.userHandle, Buffer.from(c.cose).toString('base64url')]);
      }
      await onChunk(rows);
    }
    return;
  }
  // Chunks are queued and consumed one at a time so that onChunk (database writes) never overlaps itself.
  const queue: DerivedRow[][] = [];
  let wake: (() => void) | null = null;
  let running = workers;
  let failure: unknown = null;
  const per = Math.ceil(count / workers);
  for (let w = 0; w < workers; w++) {
    const from = w * per;
    const to = Math.min(count, from + per);
    const worker = tsWorker(new URL('./deriveWorker.ts', import.meta.url), { secret, from, to, chunk });
    worker.on('message', (rows: DerivedRow[]) => {
      queue.push(rows);
      wake?.();
    });
    worker.on('error', (error) => {
      failure = error;
      wake?.();
    });
    worker.on('exit', () => {
      running--;
      wake?.();
    });
  }
  for (;;) {
    if (failure) throw failure;
    const rows = queue.shift();
    if (rows) {
      await onChunk(rows);
      continue;
    }
    if (running === 0) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = null;
  }
}
