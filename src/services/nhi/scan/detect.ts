import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { findApiKeys } from '../../../core/nhi/apiKeyFormat.ts';
import type { Source } from './sources.ts';

/** The rule id of Keybound API keys in reports (SARIF `ruleId`). */
export const KEYBOUND_RULE = 'keybound-api-key';

/** A secret found in a source; never holds the secret itself, only a redacted form. */
export interface Detection {
  readonly ruleId: string;
  readonly path: string;
  readonly commit: string | null;
  readonly line: number;
  readonly column: number;
  /** `kb_live_AbCd…` for Keybound keys; secretlint's masked message for others. */
  readonly redacted: string;
  readonly message: string;
  /** Only for Keybound keys, to look up and revoke; dropped before anything is printed. */
  readonly secret?: string;
}

/** 1-based line and column of an offset in a source, mapped to the file's lines. */
function position(source: Source, offset: number): { line: number; column: number } {
  const before = source.text.slice(0, offset);
  const index = before.split('\n').length - 1;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line: source.lines?.[index] ?? index + 1, column };
}

export const redact = (key: string) => `${key.slice(0, key.indexOf('_', 3) + 5)}…`;

/** Keybound keys: the format and a right checksum (core/nhi/apiKeyFormat.ts); look-alikes are not reported. */
export function detectKeyboundKeys(source: Source): Detection[] {
  return findApiKeys(source.text).map(({ key, index }) => ({
    ruleId: KEYBOUND_RULE,
    path: source.path,
    commit: source.commit ?? null,
    ...position(source, index),
    redacted: redact(key),
    message: 'Keybound API key',
    secret: key,
  }));
}

const SECRETLINT_CONFIG = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }] };

/**
 * Other secrets, with secretlint's recommended preset (cloud, GitHub, Slack, npm, private keys,
 * basic auth, database URLs, ...), run in-process through @secretlint/core with secrets masked.
 */
export async function detectOtherSecrets(source: Source): Promise<Detection[]> {
  const result = await lintSource({
    source: { filePath: source.path, content: source.text, contentType: 'text' },
    options: { maskSecrets: true, noPhysicFilePath: true, config: SECRETLINT_CONFIG as never },
  });
  return result.messages.map((m) => {
    const index = m.loc.start.line - 1;
    return {
      ruleId: m.ruleId,
      path: source.path,
      commit: source.commit ?? null,
      line: source.lines?.[index] ?? m.loc.start.line,
      column: m.loc.start.column + 1,
      redacted: m.message,
      message: m.message,
    };
  });
}
