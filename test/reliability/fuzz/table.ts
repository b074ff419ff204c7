/**
 * The fuzz table: every endpoint, in groups that run in parallel (one badInput.<group>.test.ts each).
 * New routes add their rows to a group (a file beside this one with the endpoints and their hostile
 * requests), and the bad-input suite covers them from then on.
 */
import { CODE_ENDPOINTS } from './codes.ts';
import { GOVERNANCE_ENDPOINTS } from './governance.ts';
import { PASSKEY_ENDPOINTS } from './passkeys.ts';
import type { FuzzEndpoint } from './types.ts';
import { OIDC_ENDPOINTS } from './oidc.ts';

export const ENDPOINT_GROUPS = {
  /** Passkey ceremonies, sessions, the account's passkeys, the hosted pages. */
  passkeys: PASSKEY_ENDPOINTS,
  /** One-time codes and the OpenID provider. */
  protocols: [...CODE_ENDPOINTS, ...OIDC_ENDPOINTS],
  /** Administration, recoveries and approvals, paths, connected apps, devices, the migration sign-in, Shared Signals streams. */
  governance: GOVERNANCE_ENDPOINTS,
} as const satisfies Record<string, readonly FuzzEndpoint[]>;
