import { html } from '../html.ts';
import { emptyNote, figure, FONT, PALETTE, r, WIDTH, type ChartText } from './frame.ts';

export interface StackedRow {
  readonly label: string;
  /** Values by series key, in the chart's series order. */
  readonly values: Readonly<Record<string, number>>;
}

const ROW = 30;
const LABEL_W = 90;

/**
 * Horizontal stacked bars: one row per group (a role), one segment per series (a factor, a
 * level), as counts on a common scale; a legend names the series.
 */
export function stackedBarChart(text: ChartText & { readonly series: readonly { readonly key: string; readonly label: string }[]; readonly rows: readonly StackedRow[] }) {
  const totals = text.rows.map((row) => text.series.reduce((n, s) => n + (row.values[s.key] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const plot = WIDTH - LABEL_W - 40;
  const height = Math.max(1, text.rows.length) * ROW + 8;
  const colour = (i: number) => PALETTE[i % PALETTE.length]!;
  const marks = text.rows.length
    ? html`${text.rows.map((row, i) => {
        const y = 4 + i * ROW;
        let x = LABEL_W;
        return html`<g><text x="${LABEL_W - 6}" y="${r(y + ROW / 2 + FONT / 3)}" text-anchor="end" fill="currentColor">${row.label}</text>
${text.series.map((s, k) => {
  const value = row.values[s.key] ?? 0;
  if (value === 0) return '';
  const w = (value / max) * plot;
  const rect = html`<rect x="${r(x)}" y="${r(y + 4)}" width="${r(w)}" height="${ROW - 8}" fill="${colour(k)}" stroke="#fff" stroke-width="1"><title>${row.label}, ${s.label}: ${value}</title></rect>`;
  x += w;
  return rect;
})}
<text x="${r(x + 6)}" y="${r(y + ROW / 2 + FONT / 3)}" fill="currentColor">${totals[i]}</text></g>`;
      })}`
    : emptyNote(ROW / 2 + 4, 'No data yet');
  return figure(
    text,
    height,
    marks,
    { head: ['', ...text.series.map((s) => s.label)], rows: text.rows.map((row) => [row.label, ...text.series.map((s) => row.values[s.key] ?? 0)]) },
    text.series.map((s, k) => ({ label: s.label, colour: colour(k) })),
  );
}
