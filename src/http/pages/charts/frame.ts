import { html, type Html } from '../html.ts';

/**
 * What every chart shares (issue 16, /admin/posture): a `<figure>` whose SVG scales with its
 * `viewBox` (never wider than the page, so a 390 px phone does not scroll sideways), is named by
 * its `<title>` and `<desc>`, and is followed by a visually hidden table of the same figures for
 * screen readers. Text takes the page's colour (`currentColor`); marks use colours with at least
 * 3:1 contrast on white (WCAG 2.1 1.4.11).
 */

/** Mark colours, in series order. */
export const PALETTE = ['#1d4ed8', '#b45309', '#15803d', '#7c3aed', '#be123c', '#0f766e', '#4b5563'] as const;

/** The viewBox width every chart draws in; the page scales it. */
export const WIDTH = 420;
export const FONT = 13;

export interface ChartText {
  /** Unique on the page: the ids of the title, description and table derive from it. */
  readonly id: string;
  readonly title: string;
  /** A sentence that says what the chart shows, and its main figure. */
  readonly desc: string;
}

export interface DataTable {
  readonly head: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

/** Rounds for coordinates: short numbers in the markup. */
export const r = (n: number) => Math.round(n * 10) / 10;

export function figure(text: ChartText, height: number, marks: Html, table: DataTable, legend?: readonly { readonly label: string; readonly colour: string }[]): Html {
  return html`<figure class="chart" id="${text.id}">
<figcaption>${text.title}</figcaption>
<svg viewBox="0 0 ${WIDTH} ${r(height)}" role="img" aria-labelledby="${text.id}-title ${text.id}-desc" font-size="${FONT}" font-family="system-ui, sans-serif" preserveAspectRatio="xMinYMin meet">
<title id="${text.id}-title">${text.title}</title>
<desc id="${text.id}-desc">${text.desc}</desc>
${marks}
</svg>
${legend && legend.length ? html`<ul class="chart-legend" aria-hidden="true">${legend.map((l) => html`<li><svg class="swatch" width="12" height="12" viewBox="0 0 12 12"><rect width="12" height="12" fill="${l.colour}"/></svg> ${l.label}</li>`)}</ul>` : ''}
<table class="visually-hidden">
<caption>${text.title}: the figures</caption>
<thead><tr>${table.head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${table.rows.map((row) => html`<tr>${row.map((c, i) => (i === 0 ? html`<th scope="row">${c}</th>` : html`<td>${c}</td>`))}</tr>`)}</tbody>
</table>
</figure>`;
}

/** An empty chart says so rather than drawing nothing. */
export function emptyNote(y: number, message: string): Html {
  return html`<text x="${WIDTH / 2}" y="${r(y)}" text-anchor="middle" fill="currentColor">${message}</text>`;
}
