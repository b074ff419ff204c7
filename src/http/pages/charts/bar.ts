import { html } from '../html.ts';
import { emptyNote, figure, FONT, PALETTE, r, WIDTH, type ChartText } from './frame.ts';

export interface BarRow {
  readonly label: string;
  readonly value: number;
}

const ROW = 26;
const LABEL_W = 150;

/** Horizontal bars, one a row, each labelled with its value: readable on a phone. */
export function barChart(text: ChartText & { readonly rows: readonly BarRow[]; readonly unit?: string; readonly colour?: string }) {
  const max = Math.max(1, ...text.rows.map((row) => row.value));
  const plot = WIDTH - LABEL_W - 50;
  const height = Math.max(1, text.rows.length) * ROW + 8;
  const marks = text.rows.length
    ? html`${text.rows.map((row, i) => {
        const y = 4 + i * ROW;
        const w = (row.value / max) * plot;
        return html`<g><text x="${LABEL_W - 6}" y="${r(y + ROW / 2 + FONT / 3)}" text-anchor="end" fill="currentColor">${row.label}</text>
<rect x="${LABEL_W}" y="${r(y + 4)}" width="${r(Math.max(w, row.value > 0 ? 2 : 0))}" height="${ROW - 8}" fill="${text.colour ?? PALETTE[0]}"><title>${row.label}: ${row.value}${text.unit ?? ''}</title></rect>
<text x="${r(LABEL_W + w + 6)}" y="${r(y + ROW / 2 + FONT / 3)}" fill="currentColor">${row.value}${text.unit ?? ''}</text></g>`;
      })}`
    : emptyNote(ROW / 2 + 4, 'No data yet');
  return figure(text, height, marks, { head: ['', `Value${text.unit ? ` (${text.unit.trim()})` : ''}`], rows: text.rows.map((row) => [row.label, row.value]) });
}
