import type { Account, Session } from '../../core/model.ts';
import type { GrantSummary } from '../../services/grants.ts';
import type { PasskeySummary } from '../../services/passkeys/management.ts';
import type { DescribedApproval } from '../../services/approvals.ts';
import { DEVICE_LINK_TTL_MS } from '../../services/devices/link.ts';
import type { DelegationSummary } from '../../services/nhi/delegations.ts';
import { renderDelegationsSection } from './delegations.ts';
import type { ApiKeyDetails } from '../../services/nhi/apiKeys.ts';
import { renderApiKeysSection } from './apiKeys.ts';
import { renderDevicesSection } from './devices.ts';
import { renderFactorsSection, type FactorsView } from './factors.ts';
import { html, layout, type Html } from './html.ts';
import { renderPathsSection } from './paths.ts';
import type { AnalysisJson } from '../../services/paths/report.ts';
import { describeAmr, describeUserAgent } from './words.ts';
import { signedInWithPasskey } from '../../services/sessions.ts';
import type { AuditEvent } from '../../core/model.ts';
import { renderRecentSignIns } from './signIns.ts';

/**
 * What the page says after a change it made (`/account?changed=<what>`, set by the page script),
 * and whether the change was to an authenticator, which also offers "Sign out everywhere else".
 */
const CONFIRMATIONS: Readonly<Record<string, { readonly text: string; readonly authenticator: boolean }>> = {
  'passkey-added': { text: 'Passkey added.', authenticator: true },
  'passkey-removed': { text: 'Passkey removed: it no longer signs you in.', authenticator: true },
  'passkey-lost': { text: 'The lost passkey was removed, and every session and app access it signed in has ended.', authenticator: true },
  'passkey-renamed': { text: 'Passkey renamed.', authenticator: false },
  'method-added': { text: 'Sign-in method added.', authenticator: true },
  'method-removed': { text: 'Sign-in method removed.', authenticator: true },
  'method-changed': { text: 'Your sign-in methods changed.', authenticator: true },
  'session-ended': { text: 'Session ended.', authenticator: false },
  'signed-out-elsewhere': { text: 'Your other sessions have ended.', authenticator: false },
  'app-disconnected': { text: 'The app was disconnected: it no longer has access to your account.', authenticator: false },
  'agent-allowed': { text: 'The agent may now act for you, with the scopes you gave it, until the delegation ends.', authenticator: false },
  'agent-revoked': { text: 'The agent no longer acts for you.', authenticator: false },
  'api-key-revoked': { text: 'API key revoked: it no longer works.', authenticator: false },
  // The older form of the reload after a change, without saying which.
  '1': { text: '', authenticator: true },
};

/**
 * Why a change needs a new sign-in, truthfully: a code sign-in is never enough to change passkeys,
 * however recent; a passkey sign-in is, within the last few minutes.
 */
export function reSignInReason(session: Session): Html {
  return signedInWithPasskey(session)
    ? html`your sign-in is older than a few minutes`
    : html`you signed in with a one-time code, and only a passkey sign-in can change how you sign in`;
}

const when = (iso: string | null) => (iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').slice(0, 16)} UTC</time>` : html`never`);

export function renderAccountPage(input: {
  account: Account;
  session: Session;
  passkeys: readonly PasskeySummary[];
  sessions: readonly Session[];
  /** Connected apps: the OpenID grants of the account (OWASP ASVS 5.0 10.7.3). */
  grants?: readonly GrantSummary[];
  /** Agents acting for you: the account's delegations (docs/nhi.md). */
  delegations?: readonly DelegationSummary[];
  /** KEYBOUND_DELEGATION_MAX_TTL in days, for the grant form. */
  delegationMaxDays?: number;
  fresh: boolean;
  allowSyncedPasskeys: boolean;
  /** Every sign-in method with its strength, and the code factors the role allows. */
  factors?: FactorsView;
  /** The page was opened right after a change it made (`/account?changed=<what>`, CONFIRMATIONS). */
  changed?: string | null;
  /** The latest recovery of the account (README "Recovery"): when, and from where. */
  recovered?: { at: number; ip: string | null } | null;
  /** Takeover-path analysis of the account (docs/paths.md): "Ways into your account". */
  paths?: AnalysisJson;
  /** Assisted recoveries of this account still pending, each with a cancel button (README "Recovery"). */
  recoveries?: readonly DescribedApproval[];
  /** The person's own API keys and the scopes they may give a new one (KEYBOUND_API_KEY_SELF_SCOPES). */
  apiKeys?: { readonly keys: readonly ApiKeyDetails[]; readonly selfScopes: readonly string[] };
  /** The account's latest sign-in audit events, with what the risk policy saw (issue 14). */
  signIns?: readonly AuditEvent[];
}): string {
  const { account, session } = input;
  const activeCount = input.passkeys.filter((p) => p.status === 'active').length;
  const others = input.sessions.filter((s) => s.id !== session.id).length;
  // OWASP ASVS 5.0 7.4.3: "the application gives the option to terminate all other active sessions
  // after a successful change or removal of any authentication factor". The script shows this offer
  // after every change it makes (a reload to ?changed=1, or at once for new recovery codes).
  const confirmation = input.changed ? CONFIRMATIONS[input.changed] : undefined;
  const changedOffer = others > 0
    ? html`<p class="notice" id="changed-offer"${confirmation?.authenticator ? '' : html` hidden`}>You changed how you sign in. If a device you no longer trust may still be signed in, end its sessions: <button type="button" class="sign-out-others">Sign out everywhere else</button></p>`
    : '';
  const why = reSignInReason(session);
  return layout(
    { title: 'Your account', page: 'account', signedIn: true },
    html`<h1>${account.displayName}</h1>
${confirmation?.text ? html`<p class="confirmation" id="confirmation" role="status">${confirmation.text}</p>` : ''}
${changedOffer}
${input.recovered ? html`<p class="notice" id="last-recovery">Recovered with a new passkey at ${when(new Date(input.recovered.at).toISOString())} from ${input.recovered.ip ?? 'an unknown address'}. If this was not you, tell your administrator.</p>` : ''}
${renderPendingRecoveries(input.recoveries ?? [])}
<p>Signed in as <strong>${account.username}</strong> (${account.role}) at level <strong data-acr="${session.acr}">AAL${session.aal}</strong> with <span id="signed-in-with" data-amr="${session.amr.join(' ')}">${describeAmr(session.amr)}</span>.</p>

<section aria-labelledby="passkeys-heading">
<h2 id="passkeys-heading">Passkeys</h2>
<table class="passkeys">
<thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Authenticator</th><th scope="col">Strength</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>
${input.passkeys.map(
  (p) => html`<tr data-passkey="${p.id}" data-kind="${p.kind}">
<td class="nickname"><span class="name">${p.nickname}</span>${p.status !== 'active' ? html` <strong class="error">disabled: ${p.flaggedReason ?? p.status}</strong>` : ''}</td>
<td>${p.kind === 'device-bound' ? 'Device-bound' : 'Syncable'}${p.kind === 'syncable' && p.backedUp ? ' (backed up)' : ''}</td>
<td>${p.authenticator ?? 'Unknown model'}${p.attestationTrusted ? ' · attested' : ''}</td>
<td>phishing-resistant</td>
<td>${when(p.lastUsedAt)}</td>
<td class="actions">
<button type="button" class="rename" data-id="${p.id}" aria-label="Rename ${p.nickname}">Rename</button>
<form class="rename-form" id="rename-${p.id}" hidden><label for="rename-input-${p.id}">New name</label><input id="rename-input-${p.id}" name="nickname" type="text" maxlength="64" required value="${p.nickname}"><button type="submit">Save</button> <button type="button" class="cancel link">Cancel</button></form>
${activeCount > 1 || p.status !== 'active' ? html`<button type="button" class="remove" data-id="${p.id}">Remove</button>` : html`<span class="muted" title="Add another passkey before removing your only one">Only passkey</span>`}
${p.id === session.passkeyId ? html`<span class="muted this-device">This sign-in</span>` : html`<button type="button" class="lost" data-id="${p.id}">Lost device</button>`}
</td>
</tr>`,
)}
</tbody>
</table>
${
  input.fresh
    ? html`<form id="add-passkey-form"><label for="nickname">Add another passkey</label><input id="nickname" name="nickname" type="text" maxlength="64" placeholder="for example: Phone"><button type="submit" id="add-passkey">Add a passkey</button></form>`
    : html`<p class="notice" id="passkeys-need-sign-in">To add or remove a passkey, <a href="/login?next=/account">sign in again</a> with a passkey (${why}).</p>`
}
${input.allowSyncedPasskeys ? '' : html`<p class="muted">Your role accepts device-bound passkeys only.</p>`}
</section>

${renderDevicesSection({ fresh: input.fresh, minutes: DEVICE_LINK_TTL_MS / 60_000, why })}

${input.factors ? renderFactorsSection({ ...input.factors, why }) : ''}

${input.paths ? renderPathsSection(input.paths) : ''}

<section aria-labelledby="sessions-heading">
<h2 id="sessions-heading">Sessions</h2>
<table class="sessions">
<thead><tr><th scope="col">Signed in</th><th scope="col">Level</th><th scope="col">From</th><th scope="col">Last seen</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>
${input.sessions.map(
  (s) => html`<tr data-session="${s.id}">
<td>${when(new Date(s.authTime).toISOString())}${s.id === session.id ? html` <strong>(this session)</strong>` : ''}</td>
<td>AAL${s.aal}</td>
<td>${s.ip} · <span class="agent" title="${s.userAgent}">${describeUserAgent(s.userAgent)}</span></td>
<td>${when(new Date(s.lastSeenAt).toISOString())}</td>
<td><button type="button" class="revoke" data-id="${s.id}" data-current="${s.id === session.id ? 'true' : 'false'}">${s.id === session.id ? 'Sign out' : 'Revoke'}</button></td>
</tr>`,
)}
</tbody>
</table>
${
  others > 0
    ? html`<p><button type="button" class="sign-out-others">Sign out everywhere else</button> ends your ${others} other ${others === 1 ? 'session' : 'sessions'}${input.fresh ? '' : html` (this, and revoking another session, needs a <a href="/login?next=/account">passkey sign-in</a> in the last few minutes; ${why})`}.</p>`
    : ''
}
</section>

${renderRecentSignIns(input.signIns ?? [])}

${renderConnectedApps(input.grants ?? [], input.fresh)}

${input.delegations ? renderDelegationsSection({ delegations: input.delegations, fresh: input.fresh, maxDays: input.delegationMaxDays ?? 90, why }) : ''}
${input.apiKeys ? renderApiKeysSection({ ...input.apiKeys, fresh: input.fresh, why }) : ''}`,
  );
}

/** Applications the person let into their account, each with what it holds and a way to revoke it. */
function renderConnectedApps(grants: readonly GrantSummary[], fresh: boolean) {
  return html`<section aria-labelledby="apps-heading">
<h2 id="apps-heading">Connected apps</h2>
${
  grants.length === 0
    ? html`<p class="muted" id="no-apps">No application holds access to your account.</p>`
    : html`<table class="grants">
<thead><tr><th scope="col">Application</th><th scope="col">Access</th><th scope="col">Connected</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>
${grants.map(
  (g) => html`<tr data-grant="${g.id}">
<td>${g.clientName}</td>
<td>${g.scopes.join(', ')}${g.resources.map((r) => html`<br><code>${r.resource}</code>${r.scopes.length ? html`: ${r.scopes.join(', ')}` : ''}`)}</td>
<td>${when(g.createdAt)}</td>
<td>${when(g.lastUsedAt)}</td>
<td><button type="button" class="revoke-grant" data-id="${g.id}" data-client="${g.clientName}" aria-label="Revoke access of ${g.clientName}">Revoke</button></td>
</tr>`,
)}
</tbody>
</table>
${fresh ? '' : html`<p class="muted">Revoking an app needs a <a href="/login?next=/account">passkey sign-in</a> in the last few minutes.</p>`}`
}
</section>`;
}

const RECOVERY_STATE: Record<string, string> = {
  awaiting_approval: 'awaits a second administrator\'s approval',
  waiting: 'is approved and waiting',
  released: 'is released: a link that adds a passkey to your account can be issued now',
  linked: 'has issued a link that adds a passkey to your account',
};

/** Pending assisted recoveries: shown first, since the holder may not have asked for them. */
function renderPendingRecoveries(recoveries: readonly DescribedApproval[]) {
  if (recoveries.length === 0) return '';
  return html`<section aria-labelledby="recoveries-heading" class="notice" id="pending-recoveries">
<h2 id="recoveries-heading">Account recovery in progress</h2>
<p>An administrator started a recovery of your account, for someone who lost every passkey. If that was not you, cancel it and tell your administrator.</p>
<ul>
${recoveries.map(
  (r) => html`<li data-recovery="${r.id}">Requested by ${r.requestedBy} at ${when(r.createdAt)}; it ${RECOVERY_STATE[r.state] ?? r.state}${r.state === 'waiting' && r.releaseAt ? html` until ${when(r.releaseAt)}` : ''}. <button type="button" class="cancel-recovery" data-id="${r.id}">Cancel this recovery</button></li>`,
)}
</ul>
</section>`;
}
