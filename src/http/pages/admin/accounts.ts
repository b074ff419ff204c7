import type { Acr } from '../../../core/assurance/level.ts';
import { ACR_VALUES } from '../../../core/assurance/level.ts';
import { ACCOUNT_STATUSES, ROLES } from '../../../core/model.ts';
import { acrName } from '../../../core/paths/levels.ts';
import type { AccountSummary } from '../../../services/accountAdmin.ts';
import { html, type Html } from '../html.ts';
import { consoleLayout, when } from './layout.ts';

/** The accounts list's filters, as the query string gives them. */
export interface AccountFilters {
  readonly query: string;
  readonly role: string;
  readonly status: string;
  /** An effective level (`urn:keybound:aal2`), or empty for any. */
  readonly level: string;
  readonly below: boolean;
  readonly page: number;
}

export interface AccountRow extends AccountSummary {
  readonly effectiveAcr: Acr | null;
  readonly requiredAcr: Acr;
  readonly belowRequired: boolean;
}

export const ACCOUNTS_PER_PAGE = 25;

const levelName = (acr: Acr | null) => (acr === null ? 'no way in' : acrName(acr));

function option(value: string, label: string, selected: string): Html {
  return html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;
}

function factorsCell(f: AccountSummary['factors']): Html {
  const passkeys = f.passkeys === 0 ? 'no passkey' : `${f.passkeys} passkey${f.passkeys === 1 ? '' : 's'} (${f.deviceBoundPasskeys} device-bound)`;
  return html`${passkeys}${f.codeFactors.length > 0 ? html`<br><span class="muted">codes: ${f.codeFactors.join(', ')}</span>` : ''}`;
}

function pageLink(filters: AccountFilters, page: number): string {
  const q = new URLSearchParams();
  if (filters.query) q.set('query', filters.query);
  if (filters.role) q.set('role', filters.role);
  if (filters.status) q.set('status', filters.status);
  if (filters.level) q.set('level', filters.level);
  if (filters.below) q.set('below', 'yes');
  q.set('page', String(page));
  return `/admin/accounts?${q.toString()}`;
}

export function renderAccountsPage(input: { admin: string; filters: AccountFilters; rows: readonly AccountRow[]; total: number }): string {
  const { filters, rows, total } = input;
  const pages = Math.max(1, Math.ceil(total / ACCOUNTS_PER_PAGE));
  return consoleLayout(
    { title: 'Accounts', section: '/admin/accounts', admin: input.admin },
    html`<form method="get" action="/admin/accounts" class="filters" role="search" aria-label="Find accounts">
<div><label for="f-query">Search</label><input id="f-query" name="query" type="search" value="${filters.query}" maxlength="128" placeholder="username, name or email"></div>
<div><label for="f-role">Role</label><select id="f-role" name="role">${option('', 'Any', filters.role)}${ROLES.map((r) => option(r, r, filters.role))}</select></div>
<div><label for="f-status">Status</label><select id="f-status" name="status">${option('', 'Any', filters.status)}${ACCOUNT_STATUSES.map((s) => option(s, s, filters.status))}</select></div>
<div><label for="f-level">Effective level</label><select id="f-level" name="level">${option('', 'Any', filters.level)}${ACR_VALUES.map((a) => option(a, acrName(a), filters.level))}${option('none', 'No way in', filters.level)}</select></div>
<div class="check"><input id="f-below" name="below" type="checkbox" value="yes"${filters.below ? html` checked` : ''}><label for="f-below">Below its role's required level</label></div>
<div><button type="submit">Filter</button></div>
</form>
<p id="accounts-count">${total} account${total === 1 ? '' : 's'}${pages > 1 ? `, page ${filters.page} of ${pages}` : ''}.</p>
<table id="accounts">
<thead><tr><th scope="col">Account</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Effective level</th><th scope="col">Factors</th><th scope="col">Last sign-in</th></tr></thead>
<tbody>${rows.map(
      (r) => html`<tr data-account="${r.username}">
<td><a href="/admin/accounts/${encodeURIComponent(r.username)}">${r.username}</a><br><span class="muted">${r.displayName}</span></td>
<td>${r.role}</td>
<td><span class="status status-${r.status}">${r.status}</span></td>
<td data-acr="${r.effectiveAcr ?? ''}">${levelName(r.effectiveAcr)}${r.belowRequired ? html`<br><strong class="error">below ${acrName(r.requiredAcr)}</strong>` : ''}</td>
<td>${factorsCell(r.factors)}</td>
<td>${when(r.lastSignInAt)}</td>
</tr>`,
    )}</tbody>
</table>
${pages > 1
      ? html`<nav class="pager" aria-label="Pages of accounts">${filters.page > 1 ? html`<a href="${pageLink(filters, filters.page - 1)}" rel="prev">Previous page</a>` : ''} ${filters.page < pages ? html`<a href="${pageLink(filters, filters.page + 1)}" rel="next">Next page</a>` : ''}</nav>`
      : ''}`,
  );
}
