import type { Html } from '../html.ts';

/**
 * An account's delegations (agents acting for the person, DESIGN.md "Machines have owners"): no
 * delegation store exists yet, so there is nothing to show and the account page leaves the section
 * out. When delegations land, render them here (agent, scopes, expiry, revoke) and pass them in from
 * routes/adminPages.ts; the account page already places whatever this returns.
 */
export function renderDelegationsSection(_account: { readonly id: string }): Html | null {
  return null;
}
