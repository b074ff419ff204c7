import type { ApiKeyDetails } from '../../../services/nhi/apiKeys.ts';
import type { WorkloadDetails } from '../../../services/nhi/workloads.ts';
import { html } from '../html.ts';
import { apiForm, consoleLayout, when } from './layout.ts';

/** Workloads and API keys (docs/nhi.md): owner, status, keys and use; disable, enable, revoke. */
export function renderWorkloadsPage(input: { admin: string; workloads: readonly WorkloadDetails[]; apiKeys: readonly ApiKeyDetails[] }): string {
  const reason = (id: string) => html`<label for="${id}">Reason</label><input id="${id}" name="reason" maxlength="500">`;
  const workloads =
    input.workloads.length === 0
      ? html`<p class="muted">No workload. Register one with <code>keybound workloads create</code>.</p>`
      : html`<table id="workloads"><thead><tr><th scope="col">Workload</th><th scope="col">Owner</th><th scope="col">Status</th><th scope="col">Keys</th><th scope="col">Last used</th><th scope="col">Action</th></tr></thead><tbody>${input.workloads.map(
          (w, i) => html`<tr data-workload="${w.client_id}"><td><strong>${w.name}</strong> (${w.kind})<br><code>${w.client_id}</code></td><td><a href="/admin/accounts/${encodeURIComponent(w.owner)}">${w.owner}</a></td><td class="state">${w.status}${w.disabled_reason ? html`<br><span class="muted">${w.disabled_reason}</span>` : ''}</td><td>${w.keys.join(', ')}<br><span class="muted">rotated ${when(w.keys_rotated_at)}</span></td><td>${when(w.last_used_at)}</td><td>${
            w.status === 'active'
              ? apiForm({ action: `/api/v1/admin/workloads/${encodeURIComponent(w.client_id)}/disable`, label: 'Disable', done: 'Workload disabled.', fields: reason(`w-reason-${i}`) })
              : apiForm({ action: `/api/v1/admin/workloads/${encodeURIComponent(w.client_id)}/enable`, label: 'Enable', done: 'Workload enabled.' })
          }</td></tr>`,
        )}</tbody></table>`;
  const keys =
    input.apiKeys.length === 0
      ? html`<p class="muted">No API key. Issue one with <code>keybound api-keys create</code>.</p>`
      : html`<table id="api-keys"><thead><tr><th scope="col">Key</th><th scope="col">Owner</th><th scope="col">Status</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col">Action</th></tr></thead><tbody>${input.apiKeys.map(
          (k, i) => html`<tr data-api-key="${k.id}"><td><strong>${k.name}</strong><br><code>${k.id}</code>${k.scopes.length > 0 ? html`<br><span class="muted">${k.scopes.join(' ')}</span>` : ''}</td><td><a href="/admin/accounts/${encodeURIComponent(k.owner)}">${k.owner}</a></td><td class="state">${k.status}${k.revoked_reason ? html`<br><span class="muted">${k.revoked_reason}</span>` : ''}</td><td>${when(k.expires_at)}</td><td>${when(k.last_used_at)}</td><td>${
            k.status === 'active' ? apiForm({ action: `/api/v1/admin/api-keys/${encodeURIComponent(k.id)}/revoke`, label: 'Revoke', done: 'API key revoked.', danger: true, fields: reason(`k-reason-${i}`) }) : ''
          }</td></tr>`,
        )}</tbody></table>`;
  return consoleLayout({ title: 'Workloads & keys', section: '/admin/workloads', admin: input.admin }, html`<h2>Workloads</h2>${workloads}<h2>API keys</h2>${keys}`);
}
