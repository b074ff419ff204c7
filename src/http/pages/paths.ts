import type { Acr } from '../../core/assurance/level.ts';
import { CAPABILITY_NOUN, compareCapabilities, type Capability } from '../../core/paths/capabilities.ts';
import { acrInWords, acrName } from '../../core/paths/levels.ts';
import type { AnalysisJson, PathJson } from '../../services/paths/report.ts';
import { html, type Html } from './html.ts';

const ROW = 30;
const TOP = 24;
const LEFT_X = 8;
const NODE_X = 372;
const CAP_X = 520;
const WIDTH = 760;

const LEVEL_COLOUR: Readonly<Record<string, string>> = {
  'urn:keybound:aal1': '#b42318',
  'urn:keybound:aal2': '#b54708',
  'urn:keybound:aal2:phr': '#027a48',
  'urn:keybound:aal3': '#05603a',
};

/**
 * The graph of "Ways into your account": each path on the left, each capability that opens one on
 * the right, an edge where a capability takes part in opening a path (solid: it is enough alone;
 * dashed: only together with another). Server-rendered inline SVG: no script, no inline style, so
 * the page keeps its Content-Security-Policy.
 */
export function pathsGraph(paths: readonly PathJson[]): Html {
  const capabilities = [...new Set(paths.flatMap((p) => p.capabilities.flat()))].sort((a, b) => compareCapabilities(a as Capability, b as Capability));
  const rows = Math.max(paths.length, capabilities.length, 1);
  const height = TOP + rows * ROW;
  const pathY = (i: number) => TOP + i * ROW + ROW / 2;
  const capY = (c: string) => pathY(capabilities.indexOf(c));
  const edges = paths.flatMap((p, i) => {
    const alone = new Set(p.capabilities.filter((s) => s.length === 1).map((s) => s[0]!));
    const together = new Set(p.capabilities.filter((s) => s.length > 1).flat().filter((c) => !alone.has(c)));
    return [
      ...[...alone].map((c) => html`<line class="edge" x1="${NODE_X}" y1="${pathY(i)}" x2="${CAP_X - 6}" y2="${capY(c)}" stroke="#667085" stroke-width="1.2"/>`),
      ...[...together].map((c) => html`<line class="edge together" x1="${NODE_X}" y1="${pathY(i)}" x2="${CAP_X - 6}" y2="${capY(c)}" stroke="#98a2b3" stroke-width="1" stroke-dasharray="4 3"/>`),
    ];
  });
  return html`<svg class="paths-graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="paths-graph-title">
<title id="paths-graph-title">Ways into your account (left) and what an attacker would need to use each (right)</title>
<text x="${LEFT_X}" y="14" font-size="11" fill="#475467">Way in · level it gives</text>
<text x="${CAP_X}" y="14" font-size="11" fill="#475467">What opens it</text>
${edges}
${paths.map(
  (p, i) => html`<g class="path-node" data-path="${p.id}">
<circle cx="${NODE_X}" cy="${pathY(i)}" r="5" fill="${LEVEL_COLOUR[p.grantsAcr] ?? '#475467'}"/>
<text class="path-label" x="${LEFT_X}" y="${pathY(i) + 4}" font-size="12" fill="#101828">${truncate(p.label, 48)}</text>
<text x="${NODE_X - 10}" y="${pathY(i) + 4}" font-size="10" text-anchor="end" fill="${LEVEL_COLOUR[p.grantsAcr] ?? '#475467'}">${p.grantsAcr.replace('urn:keybound:', '').toUpperCase()}</text>
</g>`,
)}
${capabilities.map(
  (c) => html`<g class="capability-node" data-capability="${c}">
<rect x="${CAP_X - 6}" y="${capY(c) - 9}" width="${WIDTH - CAP_X}" height="18" rx="4" fill="#f2f4f7"/>
<text x="${CAP_X}" y="${capY(c) + 4}" font-size="12" fill="#344054">${CAPABILITY_NOUN[c as Capability] ?? c}</text>
</g>`,
)}
</svg>`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The /account section "Ways into your account": the graph, the level in words, what to change. */
export function renderPathsSection(analysis: AnalysisJson): Html {
  const all = [...analysis.paths, ...analysis.governedPaths];
  return html`<section aria-labelledby="paths-heading" id="ways-in">
<h2 id="paths-heading">Ways into your account</h2>
<p>Your account is as strong as its weakest way in. Its level: <strong id="effective-level" data-effective-acr="${analysis.effectiveAcr ?? ''}">${acrInWords(analysis.effectiveAcr as Acr | null)}</strong>${analysis.effectiveAcr !== null && analysis.effectiveAcr !== analysis.requiredAcr ? html` (your role asks for at least ${acrName(analysis.requiredAcr as Acr)})` : ''}.</p>
${all.length > 0 ? pathsGraph(all) : html`<p class="muted">No way in yet.</p>`}
${analysis.governedPaths.length > 0 ? html`<p class="muted">Administrator-run paths (${analysis.governedPaths.map((p) => p.label.toLowerCase()).join('; ')}) are shown too; they need people to agree and are not counted in your level.</p>` : ''}
${analysis.advice.length > 0 ? html`<h3>To raise it</h3><ul id="paths-advice">${analysis.advice.map((a) => html`<li>${a}</li>`)}</ul>` : ''}
${analysis.findings.length > 0 ? html`<h3>What we noticed</h3><ul id="paths-findings">${analysis.findings.map((f) => html`<li data-finding="${f.code}">${f.message}</li>`)}</ul>` : ''}
</section>`;
}
