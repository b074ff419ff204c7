import { html, type Html } from '../http/pages/html.ts';

/** The demo's pages: plain HTML, forms and links only (no script), so its CSP can forbid scripts. */
function page(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}code,pre{background:#f3f3f3;padding:.1rem .3rem}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3rem .6rem;text-align:left}.ok{color:#075}.err{color:#a00}</style>
</head><body><h1>${title}</h1>${body}</body></html>`.text;
}

export interface SignedInView {
  readonly name: string;
  readonly acr: string;
  readonly amr: readonly string[];
  readonly authTime: number;
  readonly requirement: string;
  readonly result?: { readonly ok: boolean; readonly text: string } | undefined;
}

export function renderHome(view: SignedInView | null, issuer: string): string {
  if (!view) {
    return page(
      'Keybound demo',
      html`<p>A small application that signs people in through Keybound (<code>${issuer}</code>) with OpenID Connect, and has an API with a sensitive action that asks for step-up (RFC 9470).</p>
<p><a href="/login" id="sign-in">Sign in with Keybound</a></p>`,
    );
  }
  return page(
    `Hello, ${view.name}`,
    html`<p>What Keybound told this application about your sign-in (from the ID token):</p>
<table><tr><th>acr</th><td id="acr">${view.acr}</td></tr><tr><th>amr</th><td id="amr">${view.amr.join(' ')}</td></tr><tr><th>auth_time</th><td id="auth-time">${new Date(view.authTime * 1000).toISOString()}</td></tr></table>
<h2>Sensitive action</h2>
<p>The demo API's <code>POST /api/sensitive</code> requires ${view.requirement}. With a weaker or older sign-in it answers <code>401</code> with <code>WWW-Authenticate: Bearer error="insufficient_user_authentication"</code>, and this application sends you to Keybound to step up.</p>
<form method="post" action="/action"><button type="submit" id="sensitive">Run the sensitive action</button></form>
${view.result ? html`<p id="result" class="${view.result.ok ? 'ok' : 'err'}">${view.result.text}</p>` : ''}
<p><a href="/logout">Sign out</a></p>`,
  );
}

export function renderProblem(title: string, detail: string): string {
  return page(title, html`<p class="err" id="problem">${detail}</p><p><a href="/">Back to the demo</a></p>`);
}
