import type { Acr } from '../../../core/assurance/level.ts';
import { ROLES, type AuditEvent } from '../../../core/model.ts';
import { acrInWords, acrName } from '../../../core/paths/levels.ts';
import type { AccountDetails } from '../../../services/accountAdmin.ts';
import type { ApiKeyDetails } from '../../../services/nhi/apiKeys.ts';
import type { WorkloadDetails } from '../../../services/nhi/workloads.ts';
import type { AnalysisJson } from '../../../services/paths/report.ts';
import { html, type Html } from '../html.ts';
import { pathsGraph } from '../paths.ts';
import { describeAmr, describeUserAgent } from '../words.ts';
import { renderDelegationsSection } from './delegations.ts';
import type { DelegationSummary } from '../../../services/nhi/delegations.ts';
import { apiForm, consoleLayout, when } from './layout.ts';
import { renderSignInsSection } from './signIns.ts';

/** What offboarding this account would revoke now (the cascade preview, services/lifecycle.ts `offboardAccount`). */
export interface Cascade {
  readonly sessions: number;
  readonly grants: number;
  readonly passkeys: number;
  readonly codeFactors: number;
  readonly workloads: number;
  readonly apiKeys: number;
  /** Live delegations to agents: always revoked, never moved. */
  readonly delegations: number;
  /** KEYBOUND_NHI_ON_OWNER_OFFBOARD=transfer:<username>: where the machines go instead (services/nhi/cascade.ts). */
  readonly machinesTo: string | null;
}

export function cascadeOf(d: AccountDetails, workloads: readonly WorkloadDetails[], apiKeys: readonly ApiKeyDetails[], delegations: readonly DelegationSummary[], machinesTo: string | null): Cascade {
  return {
    machinesTo,
    delegations: delegations.filter((x) => x.status === 'active').length,
    sessions: d.sessions.length,
    grants: d.grants.length,
    passkeys: d.passkeys.filter((p) => p.status !== 'disabled').length,
    codeFactors: d.codeFactors.filter((c) => c.status === 'active').length,
    workloads: workloads.filter((w) => w.status === 'active').length,
    apiKeys: apiKeys.filter((k) => k.status === 'active').length,
  };
}

export interface AdminAccountView {
  readonly admin: string;
  readonly details: AccountDetails;
  readonly analysis: AnalysisJson;
  readonly workloads: readonly WorkloadDetails[];
  readonly apiKeys: readonly ApiKeyDetails[];
  readonly delegations: readonly DelegationSummary[];
  readonly signIns: readonly AuditEvent[];
  readonly machinesTo: string | null;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const base = (d: AccountDetails) => `/api/v1/admin/accounts/${encodeURIComponent(d.username)}`;

function summary(d: AccountDetails, a: AnalysisJson): Html {
  return html`<dl class="facts">
<dt>Display name</dt><dd>${d.displayName}</dd>
<dt>Role</dt><dd id="account-role">${d.role}</dd>
<dt>Status</dt><dd id="account-status"><span class="status status-${d.status}">${d.status}</span></dd>
<dt>Email</dt><dd id="account-email">${d.email ?? 'none'}</dd>
<dt>Created</dt><dd>${when(d.createdAt)}</dd>
<dt>Last sign-in</dt><dd>${when(d.lastSignInAt)}</dd>
<dt>Effective level</dt><dd id="account-level" data-acr="${a.effectiveAcr ?? ''}">${acrInWords(a.effectiveAcr as Acr | null)}${a.effectiveAcr !== null && a.effectiveAcr !== a.requiredAcr ? html` (the role asks for ${acrName(a.requiredAcr as Acr)})` : ''}</dd>
</dl>${d.pendingApprovals.length > 0 ? html`<p class="notice">Pending: ${d.pendingApprovals.map((p) => `${p.kind} (${p.state.replace(/_/g, ' ')}, requested by ${p.requestedBy})`).join('; ')}. See <a href="/admin/approvals">Approvals</a>.</p>` : ''}`;
}

function passkeys(d: AccountDetails): Html {
  return html`<section aria-labelledby="pk-heading" id="passkeys"><h2 id="pk-heading">Passkeys</h2>
${d.passkeys.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Authenticator</th><th scope="col">Status</th><th scope="col">Last used</th></tr></thead><tbody>${d.passkeys.map(
    (p) => html`<tr data-passkey="${p.id}"><td>${p.nickname}</td><td>${p.kind === 'device-bound' ? 'device-bound' : 'synced'}</td><td>${p.authenticator ?? 'unknown model'}${p.attestationTrusted ? html`<br><span class="muted">attestation trusted</span>` : ''}</td><td>${p.status}${p.flaggedReason ? html`<br><span class="muted">${p.flaggedReason}</span>` : ''}</td><td>${when(p.lastUsedAt)}</td></tr>`,
  )}</tbody></table>`}</section>`;
}

function codeFactors(d: AccountDetails): Html {
  return html`<section aria-labelledby="cf-heading" id="code-factors"><h2 id="cf-heading">Code factors</h2>
${d.codeFactors.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Sent to</th><th scope="col">Last used</th></tr></thead><tbody>${d.codeFactors.map(
    (c) => html`<tr data-factor="${c.kind}"><td>${c.kind.replace(/_/g, ' ')}${c.recoveryCodesLeft !== undefined ? html`<br><span class="muted">${plural(c.recoveryCodesLeft, 'code')} left</span>` : ''}</td><td>${c.status}${c.disabledReason ? html` (${c.disabledReason})` : ''}</td><td>${c.destination ?? ''}</td><td>${when(c.lastUsedAt)}</td></tr>`,
  )}</tbody></table>`}</section>`;
}

function sessionsAndGrants(d: AccountDetails): Html {
  return html`<section aria-labelledby="ss-heading" id="sessions"><h2 id="ss-heading">Sessions and app access</h2>
${d.sessions.length === 0 ? html`<p class="muted">No live session.</p>` : html`<table><thead><tr><th scope="col">Signed in</th><th scope="col">With</th><th scope="col">From</th><th scope="col">Last seen</th></tr></thead><tbody>${d.sessions.map(
    (s) => html`<tr data-session="${s.id}"><td>${when(s.createdAt)}</td><td>${describeAmr(s.amr)} (AAL${s.aal})</td><td><span title="${s.userAgent ?? ''}">${s.userAgent ? describeUserAgent(s.userAgent) : 'unknown'}</span>${s.ip ? html`<br><span class="muted">${s.ip}</span>` : ''}</td><td>${when(s.lastSeenAt)}</td></tr>`,
  )}</tbody></table>`}
${d.grants.length === 0 ? html`<p class="muted">No app holds access.</p>` : html`<ul id="grants">${d.grants.map((g) => html`<li>${g.clientId ?? 'an app'}${g.offline ? ' (offline access)' : ''}, since ${when(g.createdAt)}</li>`)}</ul>`}
</section>`;
}

function machines(workloads: readonly WorkloadDetails[], apiKeys: readonly ApiKeyDetails[]): Html {
  return html`<section aria-labelledby="m-heading" id="owned"><h2 id="m-heading">Workloads and API keys owned</h2>
${workloads.length + apiKeys.length === 0 ? html`<p class="muted">None.</p>` : html`<ul>${workloads.map((w) => html`<li data-workload="${w.client_id}">Workload <strong>${w.name}</strong> (${w.kind}, ${w.status})</li>`)}${apiKeys.map((k) => html`<li data-api-key="${k.id}">API key <strong>${k.name}</strong> (${k.status}, expires ${when(k.expires_at)})</li>`)}</ul>`}
<p><a href="/admin/workloads">Manage workloads and keys</a></p></section>`;
}

function paths(a: AnalysisJson): Html {
  const all = [...a.paths, ...a.governedPaths];
  return html`<section aria-labelledby="paths-heading" id="ways-in"><h2 id="paths-heading">Ways into this account</h2>
${all.length > 0 ? pathsGraph(all) : html`<p class="muted">No way in.</p>`}
${a.findings.length > 0 ? html`<h3>Findings</h3><ul id="paths-findings">${a.findings.map((f) => html`<li data-finding="${f.code}">${f.message}</li>`)}</ul>` : html`<p class="muted">No findings.</p>`}
${a.advice.length > 0 ? html`<h3>To raise its level</h3><ul>${a.advice.map((x) => html`<li>${x}</li>`)}</ul>` : ''}</section>`;
}

function actions(d: AccountDetails, cascade: Cascade): Html {
  const reason = (id: string) => html`<label for="${id}">Reason (told to the holder, kept in the audit trail)</label><input id="${id}" name="reason" maxlength="500">`;
  const lifecycle =
    d.status === 'offboarded'
      ? html`<p class="muted">Offboarded: nothing more to change.</p>`
      : html`${d.status === 'suspended'
          ? apiForm({ action: `${base(d)}/resume`, label: 'Resume', done: 'Account resumed.', id: 'resume-form' })
          : apiForm({ action: `${base(d)}/suspend`, label: 'Suspend', done: 'Account suspended: its sessions and app access have ended.', fields: reason('suspend-reason'), id: 'suspend-form' })}
<h3>Offboard</h3>
<p id="offboard-preview">Offboarding ends this account for good. It will revoke: <strong>${plural(cascade.sessions, 'session')}</strong>, <strong>${plural(cascade.grants, 'app grant')}</strong>, <strong>${plural(cascade.passkeys, 'passkey')}</strong>, <strong>${plural(cascade.codeFactors, 'code factor')}</strong>, <strong>${plural(cascade.workloads, 'workload')}</strong>, <strong>${plural(cascade.apiKeys, 'API key')}</strong> and <strong>${plural(cascade.delegations, 'delegation')}</strong> to agents${cascade.machinesTo ? html` (the workloads and keys are moved to ${cascade.machinesTo} if that account is active then, else disabled)` : ''}.</p>
${apiForm({ action: `${base(d)}/offboard`, label: 'Offboard for good', done: 'Account offboarded.', danger: true, id: 'offboard-form', fields: html`${reason('offboard-reason')}<div class="check"><input id="offboard-confirm" type="checkbox" required><label for="offboard-confirm">I understand this cannot be undone</label></div>` })}
<h3>Role</h3>
${apiForm({ action: `${base(d)}/role`, label: 'Change role', done: 'Role changed.', id: 'role-form', fields: html`<label for="role-select">New role</label><select id="role-select" name="role">${ROLES.map((r) => html`<option value="${r}"${r === d.role ? html` selected` : ''}>${r}</option>`)}</select>` })}
<h3>Email address</h3>
${apiForm({ action: base(d), method: 'PATCH', label: 'Change email', done: 'Email address changed; the holder was told.', id: 'email-form', fields: html`<label for="email-input">New email address</label><input id="email-input" name="email" type="email" maxlength="254" required value="${d.email ?? ''}">` })}
<h3>Assisted recovery</h3>
<p class="muted">For a holder who lost every authenticator: a second administrator approves, then it waits the role's recovery delay; the holder is told and can cancel.</p>
${apiForm({ action: '/api/v1/admin/recoveries', label: 'Start assisted recovery', done: 'Assisted recovery requested: it now waits for a second administrator.', id: 'recovery-form', fields: html`<input type="hidden" name="username" value="${d.username}"><label for="recovery-reason">Why (how the holder's identity was checked)</label><input id="recovery-reason" name="reason" maxlength="500" required>` })}`;
  return html`<section aria-labelledby="actions-heading" id="actions"><h2 id="actions-heading">Actions</h2>
<p class="muted">Changes need a passkey sign-in from the last few minutes; if yours is older, the console asks you to sign in again.</p>
${lifecycle}</section>`;
}

export function renderAdminAccountPage(v: AdminAccountView): string {
  const d = v.details;
  return consoleLayout(
    { title: `Account ${d.username}`, section: '/admin/accounts', admin: v.admin },
    html`<p><a href="/admin/accounts">All accounts</a></p>
${summary(d, v.analysis)}
${actions(d, cascadeOf(d, v.workloads, v.apiKeys, v.delegations, v.machinesTo))}
${passkeys(d)}
${codeFactors(d)}
${sessionsAndGrants(d)}
${renderDelegationsSection(v.delegations)}
${machines(v.workloads, v.apiKeys)}
${paths(v.analysis)}
${renderSignInsSection(v.signIns)}`,
  );
}
