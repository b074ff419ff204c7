import { html, type Html } from './html.ts';

/**
 * "Add a device" on /account: a button that asks for a device link (POST /api/v1/devices/link) and
 * shows its QR code, address and expiry (assets/devices.ts). The link is shown once and only its
 * hash is kept, so the page cannot show it again after a reload: it asks for a new one.
 */
export function renderDevicesSection(input: { fresh: boolean; minutes: number; why: Html }): Html {
  return html`<section aria-labelledby="devices-heading">
<h2 id="devices-heading">Add a device</h2>
<p>To sign in on another phone, tablet or computer with a passkey of its own, make a link here and open it there: scan the QR code, or send yourself the address. It works once, for ${String(input.minutes)} minutes, and the passkey it makes is never stronger than this sign-in.</p>
${
  input.fresh
    ? html`<p><button type="button" id="add-device">Make a link for another device</button></p>
<div id="device-link" hidden>
<img id="device-qr" alt="QR code of the device link" width="240" height="240">
<p>Or open this address on the other device: <a id="device-url" href="" rel="noreferrer"></a></p>
<p>Works once, until <time id="device-expiry"></time>. Making a new link ends this one.</p>
</div>`
    : html`<p class="notice">To add a device, <a href="/login?next=/account">sign in again</a> with a passkey (${input.why}).</p>`
}
<p class="muted">Lost a device? Choose <strong>Lost device</strong> beside its passkey, from another of your devices: its passkey is removed, and every session and application access it had ends at once.</p>
</section>`;
}
