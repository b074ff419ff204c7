import type { OutboxPort } from '../store/ports.ts';

/**
 * The sending half of a transactional outbox, shared by the back-channel logout outbox
 * (oidc/backchannel.ts) and the Shared Signals outbox (ssf/dispatch.ts). Rows are written in the
 * transaction of the change they report; any instance's dispatcher then sends the due ones:
 * each is claimed by compare-and-set on its attempt count (so of any number of instances exactly
 * one makes each attempt) with a lease past the attempt's timeout (so a sender that dies leaves
 * the row due again), at most `maxInFlight` at a time per instance.
 */
export interface OutboxRowBase {
  readonly id: string;
  readonly attempts: number;
}

export interface OutboxTiming {
  /** Longest one attempt may take. */
  readonly timeoutMs: number;
  /** Attempts under way at once, per instance. */
  readonly maxInFlight: number;
  /** How often due rows are looked for. */
  readonly pollMs: number;
}

/** Where a dispatcher reports (Fastify's logger in the server). */
export interface DispatchLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface OutboxDispatcherOptions<Row extends OutboxRowBase> {
  /** Names the outbox in log lines (`back-channel logout`) and their `event` fields (`oidc.backchannel_logout`). */
  readonly label: string;
  readonly event: string;
  readonly port: () => OutboxPort<Row>;
  readonly clock: () => number;
  readonly timing: OutboxTiming;
  /** One attempt at a claimed row (its `attempts` already counts this one); settles the row itself. */
  readonly deliver: (row: Row, stopping: AbortSignal) => Promise<void>;
}

/** The pause before the attempt after attempt `attempts` (1-based): the last entry repeats. */
export function pauseAfter(backoffMs: readonly number[], attempts: number): number {
  return backoffMs[Math.min(Math.max(attempts, 1) - 1, backoffMs.length - 1)]!;
}

export class OutboxDispatcher<Row extends OutboxRowBase> {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly options: OutboxDispatcherOptions<Row>,
    private readonly log: DispatchLog,
  ) {}

  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  start(): void {
    const { label, event, timing } = this.options;
    // A database outage would fail every poll: say so when it starts failing and when it recovers, not each second.
    let failing = false;
    this.timer = setInterval(() => {
      this.runOnce().then(
        () => {
          if (failing) this.log.warn({ event: `${event}.dispatch_recovered` }, `${label} dispatch works again`);
          failing = false;
        },
        (error: unknown) => {
          if (!failing) this.log.warn({ err: { message: (error as Error).message } }, `${label} dispatch failed; retrying every poll`);
          failing = true;
        },
      );
    }, timing.pollMs);
    this.timer.unref();
  }

  /**
   * Claims due rows while there is room and starts their deliveries; returns how many started. One
   * run at a time: a call during a run waits for that run (so `maxInFlight` holds).
   */
  runOnce(): Promise<number> {
    this.running ??= this.claimAndStart().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async claimAndStart(): Promise<number> {
    const { timing, port, clock, deliver, label } = this.options;
    const room = timing.maxInFlight - this.inFlight.size;
    if (room <= 0 || this.stopping.signal.aborted) return 0;
    const outbox = port();
    const now = clock();
    let started = 0;
    for (const row of await outbox.listDue(now, room)) {
      if (this.inFlight.size >= timing.maxInFlight) break;
      // A lease past the attempt's timeout: if this process dies mid-attempt, the row is due again.
      if (!(await outbox.claim(row.id, row.attempts, now, now + 2 * timing.timeoutMs + 10_000))) continue;
      const delivery: Promise<void> = deliver({ ...row, attempts: row.attempts + 1 }, this.stopping.signal)
        .catch((error: unknown) => this.log.warn({ err: { message: (error as Error).message }, row: row.id }, `${label} bookkeeping failed`))
        .finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
      started++;
    }
    return started;
  }

  /** Resolves when no delivery is under way. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops polling and cuts attempts under way short; their rows are due again (here or elsewhere). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopping.abort();
    await this.idle();
  }
}

/** One delivery attempt's outcome: `final` when retrying cannot help (the row is then given up). */
export type Attempt = { ok: true } | { ok: false; reason: string; final: boolean };

/**
 * What the server and the tests drive of an outbox's sender (back-channel logout, Shared Signals):
 * each sender builds its engine with its own `deliver`, and these four pass through to it.
 */
export abstract class OutboxSender<Row extends OutboxRowBase> {
  protected abstract readonly engine: OutboxDispatcher<Row>;

  start(): void {
    this.engine.start();
  }

  /** Claims due rows while there is room and starts their deliveries; returns how many started. */
  runOnce(): Promise<number> {
    return this.engine.runOnce();
  }

  /** Resolves when no delivery is under way. */
  idle(): Promise<void> {
    return this.engine.idle();
  }

  /** Stops polling and cuts attempts under way short; their rows are due again (here or elsewhere). */
  close(): Promise<void> {
    return this.engine.close();
  }
}
