/** A minimal HTML template tag: every interpolated value is escaped unless it is already `Html`. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

type Value = string | number | boolean | null | undefined | Html | readonly Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

export interface LayoutOptions {
  readonly title: string;
  /** Which behaviour the browser script attaches (`login`, `enrol`, `account`). */
  readonly page?: string;
  readonly signedIn?: boolean;
  readonly data?: Readonly<Record<string, string>>;
}

export function layout(options: LayoutOptions, body: Html): string {
  const data = Object.entries(options.data ?? {})
    .map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`)
    .join('');
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Keybound</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/style.css">
${options.page ? html`<script type="module" src="/assets/keybound.js"></script>` : ''}
</head>
<body${new Html(options.page ? ` data-page="${escapeHtml(options.page)}"` : '')}${new Html(data)}>
<header><a class="brand" href="/">Keybound</a>${options.signedIn ? html`<nav><a href="/account">Account</a> <button type="button" class="link" id="sign-out">Sign out</button></nav>` : ''}</header>
<main>
<p id="message" role="alert" aria-live="assertive" hidden></p>
${body}
</main>
</body>
</html>
`.text;
}
