import type { AuditLine } from '../../../services/auditExport.ts';
import { html } from '../html.ts';
import { consoleLayout, when } from './layout.ts';

export interface AuditFilters {
  readonly type: string;
  readonly account: string;
  readonly since: string;
}

/** The audit viewer: filters, the newest events, and the same filter as a JSON-lines download (GET /api/v1/admin/audit). */
export function renderAuditPage(input: { admin: string; filters: AuditFilters; lines: readonly AuditLine[]; error: string | null; limit: number }): string {
  const f = input.filters;
  const query = new URLSearchParams(Object.entries(f).filter(([, v]) => v !== '')).toString();
  return consoleLayout(
    { title: 'Audit', section: '/admin/audit', admin: input.admin },
    html`<form method="get" action="/admin/audit" class="filters" role="search" aria-label="Filter audit events">
<div><label for="a-type">Type</label><input id="a-type" name="type" value="${f.type}" maxlength="64" placeholder="sign_in or account.*"></div>
<div><label for="a-account">Account</label><input id="a-account" name="account" value="${f.account}" maxlength="64" placeholder="username"></div>
<div><label for="a-since">Since</label><input id="a-since" name="since" value="${f.since}" maxlength="40" placeholder="24h, 7d or 2026-12-01"></div>
<div><button type="submit">Filter</button></div>
</form>
${input.error ? html`<p class="error" role="alert" id="audit-error">${input.error}</p>` : ''}
<p><a id="audit-export" href="/api/v1/admin/audit${query ? `?${query}` : ''}" download="keybound-audit.jsonl">Download these events as JSON lines</a> <span class="muted">(up to 1000; add <code>limit=</code> for more)</span></p>
<p class="muted">The newest ${input.limit} that match, newest first.</p>
<table id="audit-events"><thead><tr><th scope="col">When</th><th scope="col">Type</th><th scope="col">Outcome</th><th scope="col">Account</th><th scope="col">Details</th></tr></thead><tbody>${[...input.lines].reverse().map(
      (e) => html`<tr data-seq="${e.seq}" data-type="${e.type}"><td>${when(e.at)}</td><td><code>${e.type}</code></td><td>${e.outcome}${e.reason ? html` (${e.reason})` : ''}</td><td>${e.username ? html`<a href="/admin/accounts/${encodeURIComponent(e.username)}">${e.username}</a>` : ''}</td><td><code class="details">${truncate(JSON.stringify(e.details), 240)}</code></td></tr>`,
    )}</tbody></table>`,
  );
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
