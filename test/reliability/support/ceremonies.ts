/**
 * Passkey ceremonies over HTTP against real server processes, each step on whichever instance the
 * caller names, and a sustained workload of enrolments and sign-ins that keeps track of every write
 * the servers acknowledged.
 */
import { loadConfig } from '../../../src/config/load.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { createDeps, openStore } from '../../../src/runtime.ts';
import { invite } from '../../../src/services/invitations.ts';
import { TEST_DATA_KEYS } from '../../helpers/constants.ts';
import { SoftAuthenticator } from '../../helpers/softAuthenticator.ts';
import { TotpApp } from '../../codes/support.ts';
import type { Answer, Client } from './client.ts';

export interface Invitation {
  readonly username: string;
  readonly accountId: string;
  readonly token: string;
}

/** Makes `count` invitations straight in the database (much faster than `keybound invite` per account). */
export async function inviteMany(databaseUrl: string, prefix: string, count: number): Promise<Invitation[]> {
  const config = loadConfig({ KEYBOUND_DATABASE_URL: databaseUrl, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS });
  const { db, store } = await openStore(config);
  try {
    const deps = await createDeps({ config, store, metrics: createMetrics({ processMetrics: false }) });
    const invitations: Invitation[] = [];
    for (let i = 0; i < count; i++) {
      const invited = await invite(deps, { username: `${prefix}-${i}`, createdBy: 'reliability-test' });
      if (!invited.ok) throw new Error(`invite ${prefix}-${i}: ${invited.code}`);
      invitations.push({ username: invited.value.account.username, accountId: invited.value.account.id, token: invited.value.token });
    }
    return invitations;
  } finally {
    await db.close();
  }
}

export interface Enrolment {
  readonly username: string;
  readonly accountId: string;
  readonly authenticator: SoftAuthenticator;
  readonly passkeyId: string;
  readonly sessionId: string;
  readonly cookie: string;
}

export type Step<T> = { readonly ok: true; readonly value: T; readonly answers: Answer[] } | { readonly ok: false; readonly answer: Answer; readonly answers: Answer[] };

/** Enrols a new passkey with an enrolment link: options on `begin`, verify on `finish`. */
export async function enrolOver(begin: Client, finish: Client, invitation: Invitation, authenticator = new SoftAuthenticator()): Promise<Step<Enrolment>> {
  const options = await begin.post('/api/v1/passkeys/registration/options', { enrolmentToken: invitation.token });
  if (options.status !== 200) return { ok: false, answer: options, answers: [options] };
  const verify = await finish.post('/api/v1/passkeys/registration/verify', { response: authenticator.create(options.json), nickname: 'Reliability key' });
  if (verify.status !== 201 || !verify.sessionCookie) return { ok: false, answer: verify, answers: [options, verify] };
  return {
    ok: true,
    value: {
      username: invitation.username,
      accountId: invitation.accountId,
      authenticator,
      passkeyId: verify.json.passkey.id,
      sessionId: verify.json.session.id,
      cookie: verify.sessionCookie,
    },
    answers: [options, verify],
  };
}

export interface SignedIn {
  readonly sessionId: string;
  readonly cookie: string;
}

/** Signs in usernameless: options on `begin`, verify on `finish`. */
export async function signInOver(begin: Client, finish: Client, authenticator: SoftAuthenticator, credential = authenticator.credential): Promise<Step<SignedIn>> {
  const options = await begin.post('/api/v1/passkeys/authentication/options', {});
  if (options.status !== 200) return { ok: false, answer: options, answers: [options] };
  const verify = await finish.post('/api/v1/passkeys/authentication/verify', { response: authenticator.get(options.json, {}, credential) });
  if (verify.status !== 200 || !verify.sessionCookie) return { ok: false, answer: verify, answers: [options, verify] };
  return { ok: true, value: { sessionId: verify.json.session.id, cookie: verify.sessionCookie }, answers: [options, verify] };
}

/** An authenticator app bound (and confirmed) through the API: a one-time-code factor to keep. */
export interface TotpBinding {
  readonly username: string;
  readonly app: TotpApp;
}

/** Binds an authenticator app to the signed-in account: begin on `begin`, confirm on `finish`. */
export async function bindTotpOver(begin: Client, finish: Client, enrolment: Enrolment): Promise<Step<TotpBinding>> {
  const begun = await begin.post('/api/v1/totp', {}, { cookie: enrolment.cookie });
  if (begun.status !== 201) return { ok: false, answer: begun, answers: [begun] };
  const app = new TotpApp(begun.json.otpauthUri);
  const confirmed = await finish.post('/api/v1/totp/confirm', { code: await app.previousCodeNow() }, { cookie: enrolment.cookie });
  if (confirmed.status !== 200) return { ok: false, answer: confirmed, answers: [begun, confirmed] };
  return { ok: true, value: { username: enrolment.username, app }, answers: [begun, confirmed] };
}

/** Signs in with the current code of a bound authenticator app (binding confirmed the step before it). */
export async function totpSignInOver(begin: Client, finish: Client, binding: TotpBinding): Promise<Step<SignedIn>> {
  const start = await begin.post('/api/v1/codes/sign-in/start', { username: binding.username, factor: 'totp' });
  if (start.status !== 200) return { ok: false, answer: start, answers: [start] };
  const verify = await finish.post('/api/v1/codes/sign-in/verify', { attemptId: start.json.attemptId, code: binding.app.code(Date.now()) });
  if (verify.status !== 200 || !verify.sessionCookie) return { ok: false, answer: verify, answers: [start, verify] };
  return { ok: true, value: { sessionId: verify.json.session.id, cookie: verify.sessionCookie }, answers: [start, verify] };
}

export interface Workload {
  /** Enrolments the servers answered 201. */
  readonly enrolments: Enrolment[];
  /** Authenticator apps bound after enrolment (when asked for), each acknowledged 201 then 200. */
  readonly totp: TotpBinding[];
  /** Sign-ins the servers answered 200 (sessions that must exist). */
  readonly sessions: (SignedIn & { readonly username: string })[];
  /** Every answer, in the order they came. */
  readonly answers: Answer[];
}

/**
 * Hands out invitations, each once, across workloads (a crashed round never reuses a link). A pool
 * made with `grow` invites more accounts when it runs low, so how many a run uses depends on how fast
 * the machine is, never on a number guessed in advance (a fixed pool of 200 once ran dry on a fast
 * run and left nothing for the check after the fault).
 */
export class InvitationPool {
  private next = 0;
  private readonly invitations: Invitation[];
  private batches = 0;
  private pending: Promise<void> | null = null;

  constructor(
    invitations: readonly Invitation[],
    private readonly grow?: { readonly databaseUrl: string; readonly prefix: string; readonly batch: number },
  ) {
    this.invitations = [...invitations];
  }

  /** A pool that starts with `batch` invitations and invites `batch` more whenever it runs low. */
  static async growing(databaseUrl: string, prefix: string, batch = 100): Promise<InvitationPool> {
    const pool = new InvitationPool([], { databaseUrl, prefix, batch });
    await pool.topUp();
    return pool;
  }

  /**
   * The next unused invitation. A growing pool tops itself up in the background below a quarter of a
   * batch, and waits for that only when it has none left; `undefined` then means the database did not
   * answer (try again later), while a fixed pool's `undefined` means it is used up.
   */
  async take(): Promise<Invitation | undefined> {
    if (this.grow && this.left < this.grow.batch / 4) {
      const topping = this.topUp().catch(() => undefined);
      if (this.left === 0) await topping;
    }
    if (this.next >= this.invitations.length) return undefined;
    return this.invitations[this.next++];
  }

  /** True when `take` can never give another invitation. */
  get exhausted(): boolean {
    return !this.grow && this.left === 0;
  }

  get left(): number {
    return Math.max(0, this.invitations.length - this.next);
  }

  private topUp(): Promise<void> {
    if (!this.grow) return Promise.resolve();
    const { databaseUrl, prefix, batch } = this.grow;
    this.pending ??= inviteMany(databaseUrl, `${prefix}-b${this.batches++}`, batch)
      .then((more) => {
        this.invitations.push(...more);
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }
}

/**
 * Starts `workers` loops of enrolments and sign-ins that run until `stop()` holds or the invitations
 * run out; `live` fills in as answers come, `done` resolves when every loop has ended. Each worker
 * signs in only with its own passkeys, so no two requests race one sign counter (a race the servers
 * rightly refuse, and which would blur what this measures). Each request goes to the next client in
 * `clients`, round robin.
 */
export function startWorkload(input: { clients: readonly Client[]; invitations: InvitationPool; workers: number; stop: () => boolean; signInsPerEnrolment?: number; bindTotp?: boolean }): { live: Workload; done: Promise<Workload> } {
  const live: Workload = { enrolments: [], totp: [], sessions: [], answers: [] };
  let turn = 0;
  const client = () => input.clients[turn++ % input.clients.length]!;
  const ratio = input.signInsPerEnrolment ?? 1;
  const worker = async () => {
    const mine: Enrolment[] = [];
    let signIns = 0;
    // An invitation whose options step failed was not used: try it again rather than burn it.
    let unused: Invitation | undefined;
    while (!input.stop()) {
      let step: Step<unknown>;
      if (mine.length === 0 || signIns >= ratio * mine.length) {
        const invitation = unused ?? (await input.invitations.take());
        unused = undefined;
        if (!invitation) {
          if (input.invitations.exhausted) break;
          // A growing pool could not reach the database just now (a fault under test): try again.
          await new Promise((resolve) => setTimeout(resolve, 25));
          continue;
        }
        const enrolled = await enrolOver(client(), client(), invitation);
        if (enrolled.ok) {
          mine.push(enrolled.value);
          live.enrolments.push(enrolled.value);
          if (input.bindTotp && !input.stop()) {
            const bound = await bindTotpOver(client(), client(), enrolled.value);
            live.answers.push(...bound.answers);
            if (bound.ok) live.totp.push(bound.value);
          }
        } else if (enrolled.answers.length === 1) {
          unused = invitation;
        }
        step = enrolled;
      } else {
        const enrolment = mine[signIns % mine.length]!;
        signIns++;
        const signedIn = await signInOver(client(), client(), enrolment.authenticator);
        if (signedIn.ok) live.sessions.push({ ...signedIn.value, username: enrolment.username });
        step = signedIn;
      }
      live.answers.push(...step.answers);
      // Back off a little when the service is unavailable, as a well-behaved client does.
      if (!step.ok && (step.answer.status === 0 || step.answer.status === 503)) await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  return { live, done: Promise.all(Array.from({ length: input.workers }, worker)).then(() => live) };
}
