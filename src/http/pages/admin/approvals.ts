import type { DescribedApproval } from '../../../services/approvals.ts';
import { html } from '../html.ts';
import { apiForm, consoleLayout, when } from './layout.ts';

/** The two-person approvals queue: assisted recoveries (routes/recoveries.ts) and raises to admin. */
export function renderApprovalsPage(input: { admin: string; recoveries: readonly DescribedApproval[]; roleChanges: readonly DescribedApproval[] }): string {
  const rows = [...input.recoveries, ...input.roleChanges].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const open = rows.filter((r) => r.state === 'awaiting_approval' || r.state === 'waiting' || r.state === 'released');
  const done = rows.filter((r) => !open.includes(r)).slice(0, 50);
  const action = (r: DescribedApproval) => {
    const path = r.kind === 'recovery' ? `/api/v1/admin/recoveries/${r.id}` : `/api/v1/admin/approvals/${r.id}`;
    if (r.state === 'awaiting_approval') {
      return html`${apiForm({ action: `${path}/approve`, label: 'Approve', done: r.kind === 'recovery' ? 'Approved: the recovery now waits its delay, and the holder was told.' : 'Approved: the role was changed.' })}${apiForm({ action: `${path}/cancel`, label: 'Cancel', done: 'Cancelled.' })}`;
    }
    if (r.kind === 'recovery' && r.state === 'waiting') return html`<span class="muted">Released ${when(r.releaseAt)}</span>${apiForm({ action: `${path}/cancel`, label: 'Cancel', done: 'Cancelled.' })}`;
    if (r.kind === 'recovery' && r.state === 'released') return html`<span class="muted">Released: the requester can issue the enrolment link (<code>POST ${path}/link</code> or <code>keybound recoveries link</code>).</span>`;
    return '';
  };
  const table = (list: readonly DescribedApproval[], id: string, withActions: boolean) =>
    list.length === 0
      ? html`<p class="muted" id="${id}">None.</p>`
      : html`<table id="${id}"><thead><tr><th scope="col">What</th><th scope="col">Account</th><th scope="col">State</th><th scope="col">Requested</th><th scope="col">Reason</th>${withActions ? html`<th scope="col">Action</th>` : ''}</tr></thead><tbody>${list.map(
          (r) => html`<tr data-approval="${r.id}"><td>${r.kind === 'recovery' ? 'Assisted recovery' : `Role ${'role' in r ? `${r.role.from} → ${r.role.to}` : ''}`}</td><td>${r.username ? html`<a href="/admin/accounts/${encodeURIComponent(r.username)}">${r.username}</a>` : ''}</td><td class="state">${r.state.replace(/_/g, ' ')}</td><td>${r.requestedBy}, ${when(r.createdAt)}${r.approvedBy ? html`<br><span class="muted">approved by ${r.approvedBy}</span>` : ''}</td><td>${r.reason ?? ''}</td>${withActions ? html`<td>${action(r)}</td>` : ''}</tr>`,
        )}</tbody></table>`;
  return consoleLayout(
    { title: 'Approvals', section: '/admin/approvals', admin: input.admin },
    html`<p>Assisted recoveries and raises to admin need a second administrator: not the one who asked, not the holder.</p>
<h2>Open</h2>${table(open, 'open-approvals', true)}
<h2>Recently closed</h2>${table(done, 'closed-approvals', false)}`,
  );
}
