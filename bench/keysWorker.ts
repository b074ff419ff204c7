/** Worker thread of the load generator: derives credentials and imports their signing keys. */
import { parentPort, workerData } from 'node:worker_threads';
import { benchCredential, signingKey } from './authenticator.ts';

const { secret, indexes } = workerData as { secret: Uint8Array; indexes: number[] };
const CHUNK = 2_000;
for (let start = 0; start < indexes.length; start += CHUNK) {
  // KeyObjects can be posted to another thread; the receiving side gets the same native key.
  parentPort!.postMessage(indexes.slice(start, start + CHUNK).map((i) => {
    const credential = benchCredential(secret, i);
    return { credential, key: signingKey(credential) };
  }));
}
