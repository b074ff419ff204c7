import { issueDeviceLink } from '../../services/devices/link.ts';
import { reportLostPasskey } from '../../services/devices/lost.ts';
import { route, type ApiRoute } from '../declare.ts';
import { sendFailure } from '../reply.ts';
import { idParams } from '../schemas.ts';

const DEVICE_LINK = {
  type: 'object',
  required: ['url', 'qrSvg', 'expiresAt'],
  properties: {
    url: { type: 'string', description: '<origin>/enrol/<token>: single use, shown once' },
    qrSvg: { type: 'string', description: 'The URL as a QR code, an SVG document' },
    expiresAt: { type: 'string', format: 'date-time' },
  },
} as const;

/** Adding a device by link, and reporting a lost one (README "Add a device", "Lost device"). */
export const deviceRoutes: readonly ApiRoute[] = [
  route({
    method: 'POST',
    path: '/api/v1/devices/link',
    summary: 'Make a single-use link (and QR code) that enrols a passkey on another device of yours, valid 10 minutes (fresh passkey sign-in)',
    access: { fresh: true },
    responses: { 201: { description: 'The device link', schema: DEVICE_LINK } },
    handler: async ({ deps, reply, context, active }) => {
      const result = await issueDeviceLink(deps, active, context);
      if (!result.ok) return sendFailure(reply, result);
      const { url, qrSvg, expiresAt } = result.value;
      return reply.code(201).header('cache-control', 'no-store').send({ url, qrSvg, expiresAt: new Date(expiresAt).toISOString() });
    },
  }),
  route<unknown, { id: string }>({
    method: 'POST',
    path: '/api/v1/passkeys/:id/lost',
    summary: 'Report a passkey lost: removes it and ends every session and grant it signed in (fresh sign-in with another passkey)',
    access: { fresh: true },
    params: idParams,
    responses: { 204: 'Removed; its sessions and grants ended' },
    handler: async ({ deps, reply, params, context, active }) => {
      const result = await reportLostPasskey(deps, active, params.id, context);
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(204).send();
    },
  }),
];
