/**
 * JSON Schemas of the API's request bodies: types and bounds are checked at the edge, before any
 * service runs. Sizes follow WebAuthn (credential ids ≤ 1023 bytes) with room for real attestations.
 */
const b64url = (maxLength: number) => ({ type: 'string', pattern: '^[A-Za-z0-9_-]*$', maxLength }) as const;

const CREDENTIAL_ID = b64url(1364); // 1023 bytes
const CLIENT_DATA = b64url(12_000);

export const nicknameSchema = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\u007f]*$' } as const;
export const usernameSchema = { type: 'string', minLength: 1, maxLength: 64 } as const;

const extensionResults = { type: 'object', maxProperties: 16 } as const;

export const registrationResponseSchema = {
  type: 'object',
  required: ['id', 'rawId', 'type', 'response'],
  properties: {
    id: CREDENTIAL_ID,
    rawId: CREDENTIAL_ID,
    type: { const: 'public-key' },
    authenticatorAttachment: { type: 'string', maxLength: 32 },
    clientExtensionResults: extensionResults,
    response: {
      type: 'object',
      required: ['clientDataJSON', 'attestationObject'],
      properties: {
        clientDataJSON: CLIENT_DATA,
        attestationObject: b64url(48_000),
        authenticatorData: b64url(16_000),
        publicKey: b64url(4_000),
        publicKeyAlgorithm: { type: 'integer' },
        transports: { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 32 } },
      },
    },
  },
} as const;

export const authenticationResponseSchema = {
  type: 'object',
  required: ['id', 'rawId', 'type', 'response'],
  properties: {
    id: CREDENTIAL_ID,
    rawId: CREDENTIAL_ID,
    type: { const: 'public-key' },
    authenticatorAttachment: { type: 'string', maxLength: 32 },
    clientExtensionResults: extensionResults,
    response: {
      type: 'object',
      required: ['clientDataJSON', 'authenticatorData', 'signature'],
      properties: {
        clientDataJSON: CLIENT_DATA,
        authenticatorData: b64url(16_000),
        signature: b64url(2_000),
        userHandle: b64url(128),
      },
    },
  },
} as const;

export const registrationOptionsBody = {
  type: 'object',
  additionalProperties: false,
  properties: { enrolmentToken: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

export const registrationVerifyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['response'],
  properties: { response: registrationResponseSchema, nickname: nicknameSchema },
} as const;

export const authenticationOptionsBody = {
  type: 'object',
  additionalProperties: false,
  properties: { username: usernameSchema },
} as const;

export const authenticationVerifyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['response'],
  properties: { response: authenticationResponseSchema },
} as const;

export const renamePasskeyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['nickname'],
  properties: { nickname: nicknameSchema },
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' } },
} as const;

// One-time codes (routes/codes.ts, totp.ts, recoveryCodes.ts, factors.ts)
const attemptIdSchema = { type: 'string', minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' } as const;
/** Generous: spaces and hyphens are normalised away by the service, which says what is wrong. */
const codeSchema = { type: 'string', minLength: 1, maxLength: 64 } as const;

export const codeSignInStartBody = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'factor'],
  properties: { username: usernameSchema, factor: { type: 'string', enum: ['totp', 'sms', 'email', 'recovery'] } },
} as const;

export const codeSignInVerifyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['attemptId', 'code'],
  properties: { attemptId: attemptIdSchema, code: codeSchema },
} as const;

// Self-service recovery (routes/recovery.ts)
export const recoveryStartBody = codeSignInStartBody;

export const recoveryVerifyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['attemptId', 'code'],
  properties: {
    attemptId: attemptIdSchema,
    code: codeSchema,
    proof: { type: 'object', additionalProperties: false, required: ['attemptId', 'code'], properties: { attemptId: attemptIdSchema, code: codeSchema } },
  },
} as const;

export const codeConfirmBody = {
  type: 'object',
  additionalProperties: false,
  required: ['code'],
  properties: { code: codeSchema },
} as const;

export const smsBindBody = {
  type: 'object',
  additionalProperties: false,
  required: ['phone'],
  properties: { phone: { type: 'string', minLength: 1, maxLength: 32 } },
} as const;

export const emptyBody = { type: 'object', additionalProperties: false, properties: {} } as const;

/** The migration sign-in (README "Importing accounts"): 1024 characters bound the hash work a request can ask for. */
export const migrationSignInBody = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  properties: { username: usernameSchema, password: { type: 'string', minLength: 1, maxLength: 1024 }, code: codeSchema },
} as const;

// Delegations to agents (routes/delegations.ts, services/nhi/delegations.ts): the agent's client id
// (base64url, as oidc/clients.ts makes them), scopes it is allowed (the service checks them), and a
// lifetime in seconds (the service caps it at KEYBOUND_DELEGATION_MAX_TTL).
export const delegationBody = {
  type: 'object',
  additionalProperties: false,
  required: ['clientId', 'scopes', 'expiresIn'],
  properties: {
    clientId: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' },
    scopes: { type: 'array', minItems: 1, maxItems: 50, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$' } },
    expiresIn: { type: 'integer', minimum: 1, maximum: 31_536_000 },
  },
} as const;
