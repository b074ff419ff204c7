import type { Config } from '../config/load.ts';
import { ERRORS } from '../core/errors.ts';
import { codeApiPaths } from './openapiCodes.ts';
import {
  authenticationOptionsBody,
  authenticationVerifyBody,
  registrationOptionsBody,
  registrationVerifyBody,
  renamePasskeyBody,
} from './schemas.ts';

const error = { $ref: '#/components/responses/Error' };
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });

/** OpenAPI 3.1 description of `/api/v1`, built from the same schemas the server validates with. */
export function openApiDocument(config: Config) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Keybound API',
      version: '1',
      description: 'Passkey ceremonies, sessions and account security. Cookie-authenticated calls that change state must come from an allowed Origin.',
    },
    servers: [{ url: config.publicUrl }],
    components: {
      securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: config.secureCookies ? '__Host-keybound_session' : 'keybound_session' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string', enum: Object.keys(ERRORS) },
            message: { type: 'string' },
            retry_after: { type: 'integer', description: 'Seconds to wait, where a limit applies (also in Retry-After).' },
          },
        },
        SignedIn: {
          type: 'object',
          properties: {
            account: { type: 'object' },
            acr: { type: 'string' },
            amr: { type: 'array', items: { type: 'string' } },
            aal: { type: 'integer', enum: [1, 2, 3] },
            session: { type: 'object' },
          },
        },
      },
      responses: { Error: { description: 'A refusal with a stable error code', ...json({ $ref: '#/components/schemas/Error' }) } },
    },
    paths: {
      '/api/v1/passkeys/registration/options': {
        post: {
          summary: 'Start a passkey registration with an enrolment token, or (with a fresh session) to add a passkey',
          requestBody: json(registrationOptionsBody),
          responses: { 200: { description: 'PublicKeyCredentialCreationOptionsJSON' }, '4XX': error },
        },
      },
      '/api/v1/passkeys/registration/verify': {
        post: {
          summary: 'Finish a registration; an enrolment also signs in and sets the session cookie',
          requestBody: json(registrationVerifyBody),
          responses: { 201: { description: 'The passkey summary (and the sign-in for an enrolment)' }, '4XX': error },
        },
      },
      '/api/v1/passkeys/authentication/options': {
        post: {
          summary: 'Start a passkey sign-in, usernameless ({}) or username-first',
          requestBody: json(authenticationOptionsBody),
          responses: { 200: { description: 'PublicKeyCredentialRequestOptionsJSON' }, '4XX': error },
        },
      },
      '/api/v1/passkeys/authentication/verify': {
        post: {
          summary: 'Finish a sign-in; sets the session cookie',
          requestBody: json(authenticationVerifyBody),
          responses: { 200: { description: 'Signed in', ...json({ $ref: '#/components/schemas/SignedIn' }) }, '4XX': error },
        },
      },
      '/api/v1/session': {
        get: { summary: 'The current session', security: [{ session: [] }], responses: { 200: { description: 'Session' }, 401: error } },
        delete: { summary: 'Sign out', security: [{ session: [] }], responses: { 204: { description: 'Signed out' }, 401: error } },
      },
      '/api/v1/sessions': { get: { summary: 'Your active sessions', security: [{ session: [] }], responses: { 200: { description: 'Sessions' }, 401: error } } },
      '/api/v1/sessions/{id}': {
        delete: { summary: 'Revoke one of your sessions', security: [{ session: [] }], parameters: [{ name: 'id', in: 'path', required: true }], responses: { 204: { description: 'Revoked' }, '4XX': error } },
      },
      ...codeApiPaths,
      '/api/v1/passkeys': { get: { summary: 'Your passkeys', security: [{ session: [] }], responses: { 200: { description: 'Passkeys' }, 401: error } } },
      '/api/v1/passkeys/{id}': {
        patch: {
          summary: 'Rename a passkey',
          security: [{ session: [] }],
          parameters: [{ name: 'id', in: 'path', required: true }],
          requestBody: json(renamePasskeyBody),
          responses: { 204: { description: 'Renamed' }, '4XX': error },
        },
        delete: {
          summary: 'Remove a passkey (fresh sign-in needed; never the last one)',
          security: [{ session: [] }],
          parameters: [{ name: 'id', in: 'path', required: true }],
          responses: { 204: { description: 'Removed' }, '4XX': error },
        },
      },
    },
  };
}
