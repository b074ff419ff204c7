import { html } from '../html.ts';
import { consoleLayout, when } from './layout.ts';

interface StreamView {
  readonly stream_id?: unknown;
  readonly client_name?: unknown;
  readonly aud?: unknown;
  readonly status?: unknown;
  readonly reason?: unknown;
  readonly delivery?: { readonly endpoint_url?: unknown };
  readonly events_delivered?: unknown;
  readonly keybound_delivery?: { readonly pending?: unknown; readonly delivered?: unknown; readonly failed?: unknown; readonly last_delivered_at?: unknown; readonly last_failure?: unknown; readonly last_failure_at?: unknown };
}

const seconds = (v: unknown) => (typeof v === 'number' ? new Date(v * 1000).toISOString() : null);
const text = (v: unknown) => (v === null || v === undefined ? '' : String(v));

/** Shared Signals streams (docs/shared-signals.md) and how delivery to each is going. */
export function renderStreamsPage(input: { admin: string; streams: readonly Record<string, unknown>[] }): string {
  const streams = input.streams as readonly StreamView[];
  return consoleLayout(
    { title: 'Shared Signals', section: '/admin/streams', admin: input.admin },
    html`<p>Streams that receivers created for their clients, and how delivery of security events to each is going.</p>
${streams.length === 0
      ? html`<p class="muted" id="streams">No stream. A receiver creates one through the transmitter's configuration endpoint.</p>`
      : html`<table id="streams"><thead><tr><th scope="col">Receiver</th><th scope="col">Status</th><th scope="col">Events</th><th scope="col">Delivery</th><th scope="col">Last failure</th></tr></thead><tbody>${streams.map((s) => {
          const d = s.keybound_delivery ?? {};
          return html`<tr data-stream="${text(s.stream_id)}"><td><strong>${text(s.client_name)}</strong> (<code>${text(s.aud)}</code>)<br><span class="muted">${text(s.delivery?.endpoint_url)}</span></td><td class="state">${text(s.status)}${s.reason ? html`<br><span class="muted">${text(s.reason)}</span>` : ''}</td><td>${Array.isArray(s.events_delivered) ? s.events_delivered.map((e) => String(e).split('/').pop()).join(', ') : ''}</td><td class="delivery">${text(d.pending)} pending, ${text(d.delivered)} delivered, ${text(d.failed)} failed<br><span class="muted">last delivered ${when(seconds(d.last_delivered_at))}</span></td><td>${d.last_failure ? html`${text(d.last_failure)}<br><span class="muted">${when(seconds(d.last_failure_at))}</span>` : 'none'}</td></tr>`;
        })}</tbody></table>`}`,
  );
}
