import { SCIM } from '../core/scim/user.ts';
import { MAX_COUNT } from '../services/scim/users.ts';
import { MAX_FILTER } from '../core/scim/filter.ts';

/** RFC 7643 §5: what this service provider supports. */
export function serviceProviderConfig(base: string): Record<string, unknown> {
  return {
    schemas: [SCIM.config],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_COUNT },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      { type: 'oauthbearertoken', name: 'OAuth Bearer Token', description: `A Keybound API key with scope scim, or a client-credentials access token with scope scim. Filters: eq on userName, emails, externalId (at most ${MAX_FILTER} characters).`, primary: true },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

/** RFC 7643 §6. */
export function resourceTypes(base: string): Record<string, unknown>[] {
  return [
    { schemas: [SCIM.resourceType], id: 'User', name: 'User', endpoint: '/Users', description: 'A Keybound account', schema: SCIM.user, meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` } },
    { schemas: [SCIM.resourceType], id: 'Group', name: 'Group', endpoint: '/Groups', description: 'A Keybound role', schema: SCIM.group, meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` } },
  ];
}

const attribute = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  type: 'string',
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...extra,
});

/** RFC 7643 §7: the attributes this server keeps (others in a request are ignored). */
export function schemas(base: string): Record<string, unknown>[] {
  return [
    {
      schemas: [SCIM.schema],
      id: SCIM.user,
      name: 'User',
      description: 'A Keybound account',
      attributes: [
        attribute('userName', { required: true, uniqueness: 'server', mutability: 'immutable' }),
        attribute('externalId', { caseExact: true }),
        attribute('displayName'),
        { ...attribute('name', { type: 'complex' }), subAttributes: [attribute('givenName'), attribute('familyName'), attribute('formatted', { mutability: 'readOnly' })] },
        attribute('active', { type: 'boolean' }),
        { ...attribute('emails', { type: 'complex', multiValued: true }), subAttributes: [attribute('value'), attribute('type'), attribute('primary', { type: 'boolean' })] },
        { ...attribute('groups', { type: 'complex', multiValued: true, mutability: 'readOnly' }), subAttributes: [attribute('value', { mutability: 'readOnly' }), attribute('display', { mutability: 'readOnly' })] },
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCIM.user}` },
    },
    {
      schemas: [SCIM.schema],
      id: SCIM.group,
      name: 'Group',
      description: 'A Keybound role',
      attributes: [
        attribute('displayName', { required: true, mutability: 'readOnly', uniqueness: 'server' }),
        { ...attribute('members', { type: 'complex', multiValued: true }), subAttributes: [attribute('value', { mutability: 'immutable' }), attribute('display', { mutability: 'readOnly' })] },
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCIM.group}` },
    },
  ];
}
