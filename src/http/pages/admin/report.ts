import { STATUS_WORDS, statusCounts } from '../../../core/report/evaluate.ts';
import type { ChangeWith, Report } from '../../../core/report/model.ts';
import { stackedBarChart } from '../charts/stackedBar.ts';
import { Html, html } from '../html.ts';
import { consoleLayout } from './layout.ts';

/**
 * /admin/report and `keybound report --format html` (issue 16; docs/report.md): every control of
 * every framework with its status, its evidence, and what changes it.
 */

const SHORT: Record<string, string> = { 'nist-sp-800-63b-4': '800-63B-4', 'nist-csf-2.0': 'CSF 2.0', 'nist-sp-800-207': '800-207', 'owasp-nhi-top-10': 'NHI Top 10' };
const STATUSES = ['met', 'partial', 'not_met', 'not_applicable'] as const;

function changeWith(c: ChangeWith, options: { links: boolean }): Html {
  return html`${(c.settings ?? []).map((s) => html`<code>${s}</code> `)}<span class="docs">${c.docs}</span>${c.page ? (options.links ? html` <a href="${c.page}">${c.page}</a>` : html` <code>${c.page}</code>`) : ''}`;
}

export function reportBody(report: Report, options: { links: boolean } = { links: true }): Html {
  const counts = statusCounts(report);
  return html`<p>Generated ${report.generatedAt} from this installation's configuration and data; every status is computed now. ${counts.met} met, ${counts.partial} partly met, ${counts.not_met} not met, ${counts.not_applicable} not applicable.${options.links ? html` The same as JSON: <a href="/api/v1/admin/report">/api/v1/admin/report</a>; charts: <a href="/admin/posture">posture</a>.` : ''}</p>
${stackedBarChart({
  id: 'chart-report',
  title: 'Controls by status, by framework',
  desc: report.frameworks.map((f) => `${f.title}: ${STATUSES.map((s) => `${f.controls.filter((c) => c.status === s).length} ${STATUS_WORDS[s].toLowerCase()}`).join(', ')}`).join('. '),
  series: STATUSES.map((s) => ({ key: s, label: STATUS_WORDS[s] })),
  rows: report.frameworks.map((f) => ({ label: SHORT[f.id] ?? f.id, values: Object.fromEntries(STATUSES.map((s) => [s, f.controls.filter((c) => c.status === s).length])) })),
})}
${report.frameworks.map(
  (f) => html`<section id="${f.id}" data-framework="${f.id}"><h2>${f.title}</h2>
<table>
<thead><tr><th scope="col">Control</th><th scope="col">Status</th><th scope="col">Evidence</th><th scope="col">Change with</th></tr></thead>
<tbody>${f.controls.map(
    (c) => html`<tr data-control="${c.id}" data-status="${c.status}"><th scope="row"><code>${c.id}</code> ${c.title}</th><td><span class="status status-${c.status}">${STATUS_WORDS[c.status]}</span></td><td><ul>${c.evidence.map((e) => html`<li>${e}</li>`)}</ul></td><td>${changeWith(c.changeWith, options)}</td></tr>`,
  )}</tbody>
</table>
</section>`,
)}`;
}

export function renderReportPage(report: Report, admin: string): string {
  return consoleLayout({ title: 'Standards report', section: '/admin/report', admin }, reportBody(report));
}

/** A page of its own, styles inline and no links into the console: `keybound report --format html`. */
export function renderReportDocument(report: Report, css: string): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Keybound standards report ${report.generatedAt}</title>
<style>${new Html(css.replace(/<\//g, '<\\/'))}</style>
</head>
<body><main>
<h1>Standards report</h1>
${reportBody(report, { links: false })}
</main></body>
</html>
`.text;
}
