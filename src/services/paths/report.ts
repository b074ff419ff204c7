import type { Analysis, Path } from '../../core/paths/model.ts';

/** A path as the API, the CLI and the account page answer it. */
export interface PathJson {
  readonly id: string;
  readonly kind: Path['kind'];
  readonly label: string;
  readonly factors: readonly string[];
  readonly grantsAcr: string;
  readonly capabilities: readonly (readonly string[])[];
  readonly safeguards?: readonly string[];
}

/** `analyse --account`, `GET /api/v1/account/paths` and the admin route answer this shape. */
export interface AnalysisJson {
  readonly account: string;
  readonly role: string;
  readonly requiredAcr: string;
  readonly effectiveAcr: string | null;
  readonly paths: readonly PathJson[];
  readonly governedPaths: readonly PathJson[];
  readonly findings: readonly { readonly code: string; readonly message: string }[];
  readonly advice: readonly string[];
}

function pathJson(p: Path): PathJson {
  return { id: p.id, kind: p.kind, label: p.label, factors: p.factors, grantsAcr: p.grantsAcr, capabilities: p.capabilities, ...(p.safeguards ? { safeguards: p.safeguards } : {}) };
}

export function analysisJson(a: Analysis): AnalysisJson {
  return {
    account: a.account,
    role: a.role,
    requiredAcr: a.requiredAcr,
    effectiveAcr: a.effectiveAcr,
    paths: a.paths.map(pathJson),
    governedPaths: a.governedPaths.map(pathJson),
    findings: a.findings.map((f) => ({ code: f.code, message: f.message })),
    advice: a.advice,
  };
}
