import { html, layout } from './html.ts';

/**
 * `/migrate` (README "Importing accounts"): an imported account's one sign-in with its old password
 * (and its authenticator app's code, if one was imported), which opens a migration session whose
 * page offers only adding a passkey.
 */
export function renderMigratePage(): string {
  return layout(
    { title: 'Move to a passkey', page: 'migrate' },
    html`<h1>Move to a passkey</h1>
<p>Your account was moved here from the old sign-in system. Use your old password once to add a passkey: from then on you sign in with the passkey, and the old password is deleted.</p>
<form id="migrate-form" autocomplete="on">
  <label for="migrate-username">Username</label>
  <input id="migrate-username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required>
  <label for="migrate-password">Old password</label>
  <input id="migrate-password" name="password" type="password" autocomplete="current-password" maxlength="1024" required>
  <label for="migrate-code">Authenticator app code <span class="muted">(if you used one)</span></label>
  <input id="migrate-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="64">
  <button type="submit" id="migrate-submit">Continue</button>
</form>
<p class="muted">If this no longer works, the move has ended: ask your administrator for an enrolment link.</p>`,
  );
}
