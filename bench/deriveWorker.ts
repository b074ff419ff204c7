/** Worker thread for seeding: derives the credentials of a range of account indexes. */
import { parentPort, workerData } from 'node:worker_threads';
import { benchCredential } from './authenticator.ts';

interface Job {
  readonly secret: Uint8Array;
  readonly from: number;
  readonly to: number;
  readonly chunk: number;
}

const { secret, from, to, chunk } = workerData as Job;
for (let start = from; start < to; start += chunk) {
  const end = Math.min(to, start + chunk);
  const rows: DerivedRow[] = [];
  for (let i = start; i < end; i++) {
    const c = benchCredential(secret, i);
    rows.push([i, c.credentialId, c.userHandle, Buffer.from(c.cose).toString('base64url')]);
  }
  parentPort!.postMessage(rows);
}

/** [index, credential id (base64url), user handle (base64url), COSE public key (base64url)] */
export type DerivedRow = [number, string, string, string];
