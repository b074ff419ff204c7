/**
 * `keybound/resource`: protect an API with Keybound access tokens (RFC 9068), DPoP (RFC 9449) and
 * step-up challenges (RFC 9470). Framework-neutral core (`createVerifier`) plus a Fastify preHandler.
 */
export { createVerifier, type AccessTokenClaims, type RequestLike, type Requirement, type Verification, type VerifierOptions } from './verify.ts';
export type { ApiKeyClaims, ApiKeyOptions } from './apiKeys.ts';
export { requireAccessToken, type FastifyGuardOptions } from './fastify.ts';
export { challengeHeader, challengeStatus, type Challenge, type ResourceErrorCode } from './challenge.ts';
export { MemoryReplayCache, type ReplayCache } from './replay.ts';
export { ACR, ACR_VALUES } from '../core/assurance/level.ts';
