import type { Failure, Result } from '../core/errors.ts';
import type { Store } from '../store/index.ts';
import type { Deps } from './deps.ts';

/**
 * What a change does once its transaction has committed: tell the holder, log the security event.
 * Never inside the transaction: a notice of a change that is then rolled back would be a lie.
 */
export type AfterCommit = (effect: () => Promise<void> | void) => void;

class RollBack extends Error {
  constructor(readonly failure: Failure) {
    super(failure.code);
  }
}

/**
 * Runs `work` in one store transaction in which a returned failure undoes every write made before
 * it (a failure value alone would commit them), then, once committed, the effects it deferred, in
 * order. Services that are steps of a larger change (a SCIM PUT that updates the email, the names
 * and the status) take the transaction and `after` from here, so the change and its audit events
 * are written all together or not at all.
 */
export async function atomically<T>(deps: Pick<Deps, 'store'>, work: (tx: Store, after: AfterCommit) => Promise<Result<T>>): Promise<Result<T>> {
  const effects: (() => Promise<void> | void)[] = [];
  let value: T;
  try {
    value = await deps.store.transaction(async (tx) => {
      const result = await work(tx, (effect) => effects.push(effect));
      if (!result.ok) throw new RollBack(result);
      return result.value;
    });
  } catch (error) {
    if (error instanceof RollBack) return error.failure;
    throw error;
  }
  for (const effect of effects) await effect();
  return { ok: true, value };
}
