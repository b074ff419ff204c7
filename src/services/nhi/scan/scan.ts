import { apiKeyState, revokeApiKey } from '../apiKeys.ts';
import type { Deps } from '../../deps.ts';
import { detectKeyboundKeys, detectOtherSecrets, type Detection } from './detect.ts';
import { gitAddedLines, walkFiles, type Source } from './sources.ts';

/**
 * `keybound scan` (issue 15; docs/nhi.md): finds secrets in a folder and, with `git`, in every
 * commit's added lines. Keybound API keys are found by format and checksum and looked up: `live`
 * (the server would accept it now), `expired`, `revoked`, `owner_inactive` or `unknown` (not of this
 * installation). With `revoke`, live keys are revoked (audited `api_key.revoked`, with where they
 * were found). Other secrets come from secretlint's recommended preset; Keybound cannot tell
 * whether they still work, so they are `unverified`.
 */
export type FindingState = 'live' | 'expired' | 'revoked' | 'owner_inactive' | 'unknown' | 'unverified';

export interface Finding extends Omit<Detection, 'secret'> {
  readonly state: FindingState;
  /** Whether this scan revoked the key. */
  readonly revoked: boolean;
  readonly keyId: string | null;
}

export interface ScanReport {
  readonly findings: readonly Finding[];
  readonly files: number;
  readonly skipped: number;
  readonly commits: number;
  /** CI fails (exit 1) when a live Keybound key or an unverified other secret was found. */
  readonly failed: boolean;
}

export interface ScanInput {
  readonly path: string;
  readonly git: boolean;
  readonly revoke: boolean;
  readonly otherSecrets: boolean;
  readonly by: string;
  /** Called after each source, for a progress display. */
  readonly progress?: (done: number, label: string) => void;
}

export async function scan(deps: Deps, input: ScanInput): Promise<ScanReport> {
  const stats = { files: 0, skipped: 0, commits: 0 };
  const detections: Detection[] = [];
  let done = 0;
  const visit = async (source: Source) => {
    detections.push(...detectKeyboundKeys(source));
    if (input.otherSecrets) detections.push(...(await detectOtherSecrets(source)));
    input.progress?.(++done, source.commit ? `${source.commit.slice(0, 8)} ${source.path}` : source.path);
  };
  for await (const source of walkFiles(input.path, stats)) await visit(source);
  if (input.git) for (const source of await gitAddedLines(input.path, stats)) await visit(source);

  // One look-up (and at most one revocation) per distinct key, however often it was found.
  const verdicts = new Map<string, { state: FindingState; keyId: string | null; revoked: boolean }>();
  const findings: Finding[] = [];
  for (const { secret, ...d } of detections) {
    if (secret === undefined) {
      findings.push({ ...d, state: 'unverified', revoked: false, keyId: null });
      continue;
    }
    let verdict = verdicts.get(secret);
    if (!verdict) {
      const { state, id } = await apiKeyState(deps, secret);
      let revoked = false;
      if (state === 'live' && input.revoke && id !== null) {
        const where = `${d.path}:${d.line}${d.commit ? ` in commit ${d.commit}` : ''}`;
        revoked = (await revokeApiKey(deps, { id, by: input.by, reason: `found by keybound scan at ${where}`.slice(0, 500) })).ok;
      }
      verdict = { state, keyId: id, revoked };
      verdicts.set(secret, verdict);
    }
    findings.push({ ...d, ...verdict });
  }
  return { findings, ...stats, failed: findings.some((f) => f.state === 'live' || f.state === 'unverified') };
}
