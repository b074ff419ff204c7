import { KEYBOUND_RULE } from './detect.ts';
import type { Finding } from './scan.ts';

/**
 * SARIF 2.1.0 (OASIS, §3.13 sarifLog, §3.14 run, §3.19 toolComponent, §3.27 result) for code-scanning
 * services: one run, one rule per kind of secret, one result per finding with its file, line and
 * column (and commit, for history). A live Keybound key is an `error`; one that no longer works a
 * `note`; other secrets, whose status Keybound cannot know, a `warning`.
 */
export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

export function toSarif(findings: readonly Finding[], toolVersion: string): Record<string, unknown> {
  const ruleIds = [...new Set([KEYBOUND_RULE, ...findings.map((f) => f.ruleId)])];
  const rules = ruleIds.map((id) => ({
    id,
    name: id === KEYBOUND_RULE ? 'KeyboundApiKey' : id.replace(/^@secretlint\/secretlint-rule-/, 'secretlint/'),
    shortDescription: { text: id === KEYBOUND_RULE ? 'A Keybound API key (format and checksum verified)' : `Secret found by secretlint rule ${id}` },
    helpUri: id === KEYBOUND_RULE ? undefined : 'https://github.com/secretlint/secretlint',
  }));
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'keybound scan', version: toolVersion, rules } },
        results: findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: ruleIds.indexOf(f.ruleId),
          level: f.state === 'live' ? 'error' : f.state === 'unverified' ? 'warning' : 'note',
          message: { text: `${f.message} (${f.state}${f.revoked ? ', revoked by this scan' : ''}): ${f.redacted}${f.commit ? ` in commit ${f.commit}` : ''}` },
          locations: [{ physicalLocation: { artifactLocation: { uri: encodeURI(f.path) }, region: { startLine: f.line, startColumn: f.column } } }],
          partialFingerprints: { [`${f.ruleId}/v1`]: `${f.path}:${f.line}:${f.redacted}` },
          properties: { state: f.state, revoked: f.revoked, ...(f.commit ? { commit: f.commit } : {}), ...(f.keyId ? { keyId: f.keyId } : {}) },
        })),
      },
    ],
  };
}
