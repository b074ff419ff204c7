import { html, layout, type Html } from '../html.ts';

/**
 * The admin console's frame (README "Admin console"): the site header, the console's navigation
 * and the page's heading. Every console page, the posture dashboard and the standards report
 * included, renders through `consoleLayout`, so they share one header and one menu.
 */

export interface ConsoleSection {
  readonly href: string;
  readonly label: string;
}

/** The console's menu, in order. */
export const CONSOLE_SECTIONS: readonly ConsoleSection[] = [
  { href: '/admin/accounts', label: 'Accounts' },
  { href: '/admin/approvals', label: 'Approvals' },
  { href: '/admin/workloads', label: 'Workloads & keys' },
  { href: '/admin/streams', label: 'Shared Signals' },
  { href: '/admin/audit', label: 'Audit' },
  { href: '/admin/policy', label: 'Policy' },
  { href: '/admin/posture', label: 'Posture' },
  { href: '/admin/report', label: 'Report' },
];

export interface ConsolePage {
  readonly title: string;
  /** The menu entry this page belongs to (`/admin/accounts` for an account's page too). */
  readonly section: string;
  /** The administrator signed in, shown beside the menu. */
  readonly admin: string;
}

export function consoleNav(section: string, admin: string): Html {
  return html`<nav class="console-nav" aria-label="Admin console"><ul>${CONSOLE_SECTIONS.map(
    (s) => html`<li><a href="${s.href}"${s.href === section ? html` aria-current="page"` : ''}>${s.label}</a></li>`,
  )}</ul><p class="muted console-who">Signed in as <strong>${admin}</strong></p></nav>`;
}

/** A whole console page: `body` goes under the menu and the page's `<h1>`. */
export function consoleLayout(page: ConsolePage, body: Html): string {
  return layout({ title: `${page.title} · Admin`, page: 'admin', signedIn: true }, html`${consoleNav(page.section, page.admin)}
<h1>${page.title}</h1>
${body}`);
}

/** `2026-12-06 13:45 UTC`, or the fallback for a missing time. */
export function when(iso: string | null | undefined, missing = 'never'): Html | string {
  if (!iso) return missing;
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

/**
 * A form the console script sends to the admin JSON API (assets/admin.ts): `action` and `method`
 * name the API route; its named fields become the JSON body (empty ones left out); `done` is what
 * the page says after success before it reloads.
 */
export function apiForm(input: { action: string; method?: string; label: string; done: string; fields?: Html; danger?: boolean; id?: string }): Html {
  return html`<form class="api-form" data-api="${input.action}" data-method="${input.method ?? 'POST'}" data-done="${input.done}"${input.id ? html` id="${input.id}"` : ''}>
${input.fields ?? ''}<button type="submit"${input.danger ? html` class="danger"` : ''}>${input.label}</button>
</form>`;
}
