/**
 * Bad input (issue 5), in process: administration, recoveries and approvals, paths, connected apps,
 * devices, the migration sign-in and the Shared Signals stream endpoints (rows in fuzz/governance.ts;
 * what every answer must be in fuzz/run.ts).
 */
import { describeFuzz } from './fuzz/run.ts';
import { ENDPOINT_GROUPS } from './fuzz/table.ts';

describeFuzz('bad input, governance', ENDPOINT_GROUPS.governance);
