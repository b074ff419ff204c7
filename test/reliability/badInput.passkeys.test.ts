/**
 * Bad input (issue 5), in process: the passkey, session and account endpoints and the hosted pages
 * (rows in fuzz/passkeys.ts; what every answer must be in fuzz/run.ts).
 */
import { describeFuzz } from './fuzz/run.ts';
import { ENDPOINT_GROUPS } from './fuzz/table.ts';

describeFuzz('bad input, passkeys and pages', ENDPOINT_GROUPS.passkeys);
