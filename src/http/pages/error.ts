import { errorMessage, type ErrorCode } from '../../core/errors.ts';
import { html, layout } from './html.ts';

/** A page for a failure that has no way forward on this page (bad link, missing page). */
export function renderErrorPage(input: { code: ErrorCode; title?: string; message?: string }): string {
  return layout(
    { title: input.title ?? 'Something is not right' },
    html`<h1>${input.title ?? 'Something is not right'}</h1>
<p class="error" data-error="${input.code}">${input.message ?? errorMessage(input.code)}</p>
<p class="muted">Error code: <code>${input.code}</code></p>
<p><a href="/login">Go to sign-in</a></p>`,
  );
}
