import { ok, type Result } from '../../core/errors.ts';
import type { Report } from '../../core/report/model.ts';
import { authorize, CLI_ACTOR, type Actor } from '../adminAccess.ts';
import type { Deps } from '../deps.ts';
import { standardsReport } from './facts.ts';
import { gatherPosture, type Posture } from './posture.ts';

/**
 * The posture figures and the standards report for an administrator (an admin session at the admin
 * role's level; the route's gate asks the same) or the operator's CLI.
 */
export async function postureFor(deps: Deps, input: { actor: Actor; days: number }): Promise<Result<Posture>> {
  const allowed = await authorize(deps, input.actor, { fresh: false });
  if (!allowed.ok) return allowed;
  return ok(await gatherPosture(deps, { days: input.days }));
}

export async function reportFor(deps: Deps, input: { actor?: Actor } = {}): Promise<Result<Report>> {
  const allowed = await authorize(deps, input.actor ?? CLI_ACTOR, { fresh: false });
  if (!allowed.ok) return allowed;
  return ok(await standardsReport(deps));
}
