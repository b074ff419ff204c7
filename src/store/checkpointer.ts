import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * SQLite's own checkpoint (every 1000 WAL pages) runs inside whichever commit crosses the threshold:
 * on the passkey sign-in bench (concurrency 16) a commit's median was about 42 µs but its mean about
 * 120 µs, because some 160 to 200 commits in 10 s took over 1 ms (up to 11 ms) copying the same hot
 * pages into the database file again and again. A worker thread with its own connection copies them
 * once a second instead, off the request path; the server's connection keeps a large automatic
 * checkpoint only as a backstop (see `openSqlite`).
 */
export interface Checkpointer {
  /**
   * Stops the timer, closes the worker's connection and waits for the thread to end; resolves to its
   * exit code (0: it ended by itself; 1: it had to be terminated, or had failed).
   */
  stop(): Promise<number>;
}

export interface CheckpointerOptions {
  /** Between two checkpoints; default 1000 ms. */
  readonly intervalMs?: number;
  /** Called at most once, when the worker fails (it has ended then). */
  readonly onError?: (error: Error) => void;
}

/** How long `stop` waits for the worker to close its connection before terminating it. */
const STOP_WAIT_MS = 2000;

// CommonJS, evaluated: it loads the same way under tsx (the server), vitest and plain node, with no
// file of its own to find. better-sqlite3 comes by the absolute path the parent resolved.
//
// PASSIVE copies what it can without waiting for any lock and never blocks a writer or a reader;
// busy_timeout 0 so that nothing else it might do waits either. The connection only ever checkpoints.
// A checkpoint that meets a busy or locked file anyway is left to the next tick; any other error ends
// the worker, and the parent hears it once (onError).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch (error) {
    if (!/^SQLITE_(BUSY|LOCKED)/.test(String(error && error.code))) throw error;
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** Starts checkpointing the SQLite database `file` (in WAL mode) from a worker thread. */
export function startCheckpointer(file: string, options: CheckpointerOptions = {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs: options.intervalMs ?? 1000 } });
  // Never what keeps the process alive: a server that stops for any reason stops.
  worker.unref();
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  let failed = false;
  worker.on('error', (error) => {
    if (failed) return;
    failed = true;
    options.onError?.(error);
  });
  let stopping: Promise<number> | undefined;
  return {
    stop: () => {
      stopping ??= (async () => {
        worker.postMessage('stop');
        const timer = setTimeout(() => void worker.terminate(), STOP_WAIT_MS);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
  };
}
