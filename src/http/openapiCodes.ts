import { codeConfirmBody, codeSignInStartBody, codeSignInVerifyBody, smsBindBody } from './schemas.ts';

const error = { $ref: '#/components/responses/Error' };
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const session = [{ session: [] }];

/** OpenAPI paths of the one-time-code endpoints (README "One-time codes"), merged into openapi.ts. */
export const codeApiPaths = {
  '/api/v1/codes/sign-in/start': {
    post: {
      summary: 'Start a sign-in with a one-time code; SMS and email codes are sent. Answers alike for any username.',
      requestBody: json(codeSignInStartBody),
      responses: { 200: { description: '{"attemptId"}' }, '4XX': error },
    },
  },
  '/api/v1/codes/sign-in/verify': {
    post: {
      summary: 'Finish a code sign-in (AAL1); sets the session cookie',
      requestBody: json(codeSignInVerifyBody),
      responses: { 200: { description: 'Signed in', ...json({ $ref: '#/components/schemas/SignedIn' }) }, '4XX': error },
    },
  },
  '/api/v1/totp': { post: { summary: 'Start binding an authenticator app (fresh passkey sign-in)', security: session, responses: { 201: { description: '{"otpauthUri", "qrSvg"}' }, '4XX': error } } },
  '/api/v1/totp/confirm': { post: { summary: 'Confirm the app with a first code', security: session, requestBody: json(codeConfirmBody), responses: { 200: { description: '{"factor"}' }, '4XX': error } } },
  '/api/v1/recovery-codes': { post: { summary: 'A new set of 10 recovery codes, shown once (fresh passkey sign-in)', security: session, responses: { 201: { description: '{"codes"}' }, '4XX': error } } },
  '/api/v1/sms': { post: { summary: 'Start binding a phone number (fresh AAL2 passkey sign-in); a code is sent', security: session, requestBody: json(smsBindBody), responses: { 202: { description: '{"attemptId", "notice"}' }, '4XX': error, 502: error } } },
  '/api/v1/sms/confirm': { post: { summary: 'Confirm the phone number', security: session, requestBody: json(codeSignInVerifyBody), responses: { 201: { description: '{"factor"}' }, '4XX': error } } },
  '/api/v1/email-codes': { post: { summary: "Start binding the account's email address for codes (fresh AAL2 passkey sign-in)", security: session, responses: { 202: { description: '{"attemptId", "notice"}' }, '4XX': error, 502: error } } },
  '/api/v1/email-codes/confirm': { post: { summary: 'Confirm the address', security: session, requestBody: json(codeSignInVerifyBody), responses: { 201: { description: '{"factor"}' }, '4XX': error } } },
  '/api/v1/factors': { get: { summary: 'Every sign-in method with its strength in words', security: session, responses: { 200: { description: '{"factors"}' }, 401: error } } },
  '/api/v1/factors/{id}': {
    delete: { summary: 'Remove a code factor (fresh passkey sign-in)', security: session, parameters: [{ name: 'id', in: 'path', required: true }], responses: { 204: { description: 'Removed' }, '4XX': error } },
  },
};
