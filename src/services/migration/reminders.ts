import { ROLES, type Account, type Role } from '../../core/model.ts';
import type { DispatchLog } from '../../delivery/outbox.ts';
import type { Deps } from '../deps.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** How often a server looks for due reminders: the schedule is in days, so hourly is on time. */
export const REMINDER_POLL_MS = 60 * 60 * 1000;

/** Reminders looked at per role and pass; the rest come in the next pass (the claimed ones drop out). */
export const MAX_PER_PASS = 5000;

/** One reminder due: an imported account of `role` without a passkey, `daysBefore` the role's date. */
export interface DueReminder {
  readonly role: Role;
  readonly daysBefore: number;
  readonly username: string;
  readonly accountId: string;
  readonly migrationUntil: string;
}

/**
 * The schedule step due at `now` (KEYBOUND_ADOPTION_REMINDERS, largest first): the smallest number
 * of days whose day has begun, while the window is open; null before the first or after the date.
 * A server that was down past a step sends only the nearest one, not every missed one.
 */
export function dueStep(schedule: readonly number[], until: number, now: number): number | null {
  if (now >= until) return null;
  let step: number | null = null;
  for (const days of schedule) if (now >= until - days * DAY_MS) step = days;
  return step;
}

/** The reminders due now and not yet claimed (what `adoption remind --dry-run` lists). */
export async function dueReminders(deps: Deps): Promise<DueReminder[]> {
  const now = deps.clock();
  const due: DueReminder[] = [];
  for (const role of ROLES) {
    const until = deps.config.roles[role].migration.until;
    if (until === null) continue;
    const step = dueStep(deps.config.adoptionReminders, until, now);
    if (step === null) continue;
    for (const account of await deps.store.adoptionReminders.pending(role, step, MAX_PER_PASS)) {
      due.push({ role, daysBefore: step, username: account.username, accountId: account.id, migrationUntil: new Date(until).toISOString() });
    }
  }
  return due;
}

function reminderText(deps: Deps, account: Account, until: string): { subject: string; text: string } {
  const last = new Date(Date.parse(until) - 1).toISOString().slice(0, 10);
  return {
    subject: 'Add your passkey before your old sign-in stops working',
    text: [
      `Hello ${account.displayName},`,
      '',
      `Your account ${account.username} moved to passkey sign-in. Your old password works once more, to add a passkey, until the end of ${last} (UTC); after that it does not work at all.`,
      '',
      `Add your passkey now: ${deps.config.publicUrl}/migrate`,
      '',
      'If you already added one, ignore this message.',
    ].join('\n'),
  };
}

/**
 * Sends the due reminders. Each is claimed first (store `claim`: one row per account and step, so
 * of any number of runners, instances and restarts exactly one sends it), then mailed, then marked
 * sent and audited. A delivery that fails after its claim is audited as failed and not retried: a
 * reminder is sent at most once per step, and the next step comes anyway.
 */
export async function sendReminders(deps: Deps): Promise<{ sent: number; failed: number }> {
  let sent = 0;
  let failed = 0;
  for (const due of await dueReminders(deps)) {
    if (!(await deps.store.adoptionReminders.claim(due.accountId, due.daysBefore, deps.clock()))) continue;
    const account = await deps.store.accounts.findById(due.accountId);
    const outcome = !account?.email ? { ok: false as const, reason: 'no_email_address' } : !deps.mailer ? { ok: false as const, reason: 'no_smtp_server' } : await deps.mailer.send({ to: account.email, ...reminderText(deps, account, due.migrationUntil) });
    const at = deps.clock();
    if (outcome.ok) {
      await deps.store.adoptionReminders.markSent(due.accountId, due.daysBefore, at);
      sent++;
    } else failed++;
    await deps.store.audit.append({
      type: 'adoption.reminder_sent',
      outcome: outcome.ok ? 'success' : 'failure',
      accountId: due.accountId,
      at,
      details: { role: due.role, daysBefore: due.daysBefore, migrationUntil: due.migrationUntil, ...(outcome.ok ? {} : { reason: outcome.reason }) },
    });
  }
  return { sent, failed };
}

/** The server's periodic job: sends due reminders every REMINDER_POLL_MS (only with a schedule). */
export class AdoptionReminders {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly deps: Deps,
    private readonly log: DispatchLog,
  ) {}

  start(pollMs = REMINDER_POLL_MS): void {
    if (this.deps.config.adoptionReminders.length === 0) return;
    this.timer = setInterval(() => void this.runOnce(), pollMs);
    this.timer.unref();
    void this.runOnce();
  }

  /** One pass; a call during a pass waits for it. */
  runOnce(): Promise<unknown> {
    this.running ??= sendReminders(this.deps)
      .catch((error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, 'adoption reminders failed; retrying next poll'))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
