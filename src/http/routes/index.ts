import type { ApiRoute } from '../declare.ts';
import { accountRoutes } from './account.ts';
import { adminRoutes } from './admin.ts';
import { adminConsoleRoutes } from './adminConsole.ts';
import { apiKeyRoutes } from './apiKeys.ts';
import { codeRoutes } from './codes.ts';
import { delegationRoutes } from './delegations.ts';
import { deviceRoutes } from './devices.ts';
import { factorRoutes } from './factors.ts';
import { grantRoutes } from './grants.ts';
import { openApiRoute } from './ops.ts';
import { passkeyRoutes } from './passkeys.ts';
import { recoveryCodeRoutes } from './recoveryCodes.ts';
import { recoveryRoutes } from './recovery.ts';
import { migrationRoutes } from './migration.ts';
import { recoveryAdminRoutes, recoveryHolderRoutes } from './recoveries.ts';
import { sessionRoutes } from './session.ts';
import { totpRoutes } from './totp.ts';

/** The whole JSON API under /api/v1: registered from this list (registrar.ts) and described by it (openapi.ts). */
export const API_ROUTES: readonly ApiRoute[] = [
  ...passkeyRoutes,
  ...sessionRoutes,
  ...accountRoutes,
  ...codeRoutes,
  ...totpRoutes,
  ...recoveryCodeRoutes,
  ...factorRoutes,
  ...adminRoutes,
  ...adminConsoleRoutes,
  ...deviceRoutes,
  ...grantRoutes,
  ...delegationRoutes,
  ...apiKeyRoutes,
  ...recoveryRoutes,
  ...migrationRoutes,
  ...recoveryAdminRoutes,
  ...recoveryHolderRoutes,
  openApiRoute(() => API_ROUTES),
];
