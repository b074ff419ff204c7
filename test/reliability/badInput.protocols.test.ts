/**
 * Bad input (issue 5), in process: the one-time-code endpoints and the OpenID provider's (token,
 * userinfo, introspection, revocation, authorization, logout, interaction); rows in fuzz/codes.ts and
 * fuzz/oidc.ts, what every answer must be in fuzz/run.ts.
 */
import { describeFuzz } from './fuzz/run.ts';
import { ENDPOINT_GROUPS } from './fuzz/table.ts';

describeFuzz('bad input, codes and OpenID', ENDPOINT_GROUPS.protocols);
