import { html } from '../html.ts';
import { figure, FONT, PALETTE, r, WIDTH, type ChartText } from './frame.ts';

export interface LineSeries {
  readonly label: string;
  /** One value per x label; `null` where there is nothing to plot (a day without sign-ins). */
  readonly values: readonly (number | null)[];
}

const HEIGHT = 190;
const LEFT = 44;
const BOTTOM = 26;
const TOP = 10;

/** Lines over days (x: the labels, first and last written out), y from 0 to `max` (or the largest value). */
export function lineChart(text: ChartText & { readonly labels: readonly string[]; readonly series: readonly LineSeries[]; readonly max?: number; readonly unit?: string }) {
  const values = text.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = text.max ?? Math.max(1, ...values);
  const plotW = WIDTH - LEFT - 12;
  const plotH = HEIGHT - TOP - BOTTOM;
  const n = text.labels.length;
  const x = (i: number) => LEFT + (n <= 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const y = (v: number) => TOP + plotH - (v / max) * plotH;
  const colour = (k: number) => PALETTE[k % PALETTE.length]!;
  const unit = text.unit ?? '';
  const grid = [0, 0.5, 1].map(
    (f) => html`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${r(y(f * max))}" y2="${r(y(f * max))}" stroke="currentColor" stroke-opacity="0.25"/><text x="${LEFT - 6}" y="${r(y(f * max) + FONT / 3)}" text-anchor="end" fill="currentColor">${r(f * max)}${unit}</text>`,
  );
  const lines = text.series.map((s, k) => {
    // A gap where a value is missing: the line starts again after it.
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) return void (pen = false);
      d += `${pen ? 'L' : 'M'}${r(x(i))} ${r(y(v))}`;
      pen = true;
    });
    const points = s.values.map((v, i) => (v === null ? '' : html`<circle cx="${r(x(i))}" cy="${r(y(v))}" r="2.5" fill="${colour(k)}"><title>${text.labels[i]}, ${s.label}: ${v}${unit}</title></circle>`));
    return html`<path d="${d}" fill="none" stroke="${colour(k)}" stroke-width="2"/>${points}`;
  });
  const axis = n
    ? html`<text x="${LEFT}" y="${HEIGHT - 6}" fill="currentColor">${text.labels[0]}</text><text x="${LEFT + plotW}" y="${HEIGHT - 6}" text-anchor="end" fill="currentColor">${text.labels[n - 1]}</text>`
    : '';
  return figure(
    text,
    HEIGHT,
    html`${grid}${lines}${axis}`,
    { head: ['Day', ...text.series.map((s) => s.label)], rows: text.labels.map((label, i) => [label, ...text.series.map((s) => (s.values[i] === null ? 'none' : `${s.values[i]}${unit}`))]) },
    text.series.length > 1 ? text.series.map((s, k) => ({ label: s.label, colour: colour(k) })) : undefined,
  );
}
