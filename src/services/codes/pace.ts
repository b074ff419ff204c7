import type { Deps } from '../deps.ts';

/**
 * Keeps `sign-in/start` from telling, by how long it takes, whether a code was sent: a start that
 * sends nothing (unknown username, factor missing or forbidden) waits about as long as sending
 * usually takes. The typical time is a moving average per channel, kept per process: it is a
 * timing estimate, not state another instance needs. Measured with the injected clock, so a pinned
 * test clock measures 0 and never waits.
 */
const MAX_WAIT_MS = 3_000;
const typical = new WeakMap<Deps, Map<string, number>>();

export async function timed<T>(deps: Deps, channel: string, send: () => Promise<T>): Promise<T> {
  const started = deps.clock();
  try {
    return await send();
  } finally {
    const took = Math.max(0, deps.clock() - started);
    const byChannel = typical.get(deps) ?? new Map<string, number>();
    typical.set(deps, byChannel);
    const before = byChannel.get(channel);
    byChannel.set(channel, before === undefined ? took : before * 0.8 + took * 0.2);
  }
}

/** Waits roughly as long as a send on `channel` usually takes (with jitter), when nothing was sent. */
export async function padLikeSend(deps: Deps, channel: string): Promise<void> {
  const usual = typical.get(deps)?.get(channel) ?? 0;
  if (usual <= 0) return;
  const jitter = 0.75 + (deps.random(1)[0]! / 255) * 0.5;
  await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_WAIT_MS, usual * jitter)));
}
