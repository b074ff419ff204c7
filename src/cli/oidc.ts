import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config/load.ts';
import { ACR_VALUES } from '../core/assurance/level.ts';
import { clientPolicy } from '../oidc/clientPolicy.ts';
import { createClient, deleteClient, describeClient, GRANT_TYPES, updateClientPolicy, type GrantType, type MetadataValidator } from '../oidc/clients.ts';
import { ensureSigningKey, rotateSigningKey, signingAlgs } from '../oidc/keys.ts';
import type { ClientMetadata } from 'oidc-provider';
import type { Deps } from '../services/deps.ts';

type WithDeps = <T>(work: (deps: Deps, config: Config) => Promise<T>) => Promise<T>;

const quiet = { info: () => undefined, error: () => undefined };

function fail(message: string): never {
  process.stderr.write(`keybound: ${message}\n`);
  process.exit(1);
}

const print = (json: boolean, value: unknown, text: string) => process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);

/** oidc-provider validates client metadata exactly as it will read it. */
export async function providerValidator(deps: Deps): Promise<MetadataValidator> {
  await ensureSigningKey(deps);
  // Loaded only by the commands that validate clients: oidc-provider is large and warns on Node 20.
  const { buildProvider } = await import('../oidc/provider.ts');
  const { provider } = await buildProvider(deps, quiet);
  return async (metadata) => {
    try {
      await provider.Client.validate(metadata as unknown as ClientMetadata);
      return null;
    } catch (error) {
      const e = error as { error_description?: string; message: string };
      return e.error_description ?? e.message;
    }
  };
}

const parseGrantTypes = (value: string): GrantType[] => {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.find((g) => !(GRANT_TYPES as readonly string[]).includes(g));
  if (bad) throw new InvalidArgumentError(`unknown grant type ${bad}; use ${GRANT_TYPES.join(', ')}`);
  return list as GrantType[];
};

export const collect = (value: string, previous: string[]) => [...previous, value];

/** `--scope "openid profile"` and `--scope openid profile` mean the same. */
const splitList = (values: readonly string[]) => values.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);

interface CreateOptions {
  name: string;
  redirectUri: string[];
  postLogoutRedirectUri: string[];
  public?: boolean;
  jwks?: { keys: Record<string, unknown>[] };
  grantTypes: GrantType[];
  requireDpop?: boolean;
  resourceServer?: string;
  idTokenAlg?: string;
  minAcr?: string;
  firstParty?: boolean;
  sensitive?: boolean;
  scope?: string[];
  resource?: string[];
  backchannelLogoutUri?: string;
  backchannelLogoutSessionRequired?: boolean;
  json?: boolean;
}

/** A JWK Set (or one JWK) of public keys, for private_key_jwt. */
function seconds(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('a whole number of seconds');
  return Number(v);
}

export function readJwks(path: string): { keys: Record<string, unknown>[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InvalidArgumentError(`cannot read ${path} as JSON (${(error as Error).message})`);
  }
  const keys = Array.isArray((parsed as { keys?: unknown }).keys) ? (parsed as { keys: unknown[] }).keys : [parsed];
  if (keys.length === 0 || !keys.every((k) => typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string')) {
    throw new InvalidArgumentError(`${path} holds no JWK`);
  }
  if (keys.some((k) => 'd' in (k as object))) throw new InvalidArgumentError(`${path} holds a private key; give the client's public keys only`);
  return { keys: keys as Record<string, unknown>[] };
}

/** `keybound clients ...` and `keybound keys rotate-signing|list-signing` (docs/oidc.md). */
export function registerOidcCommands(program: Command, withDeps: WithDeps): void {
  const clients = program.command('clients').description('OpenID Connect clients (applications and services)');
  clients
    .command('create')
    .description('register a client; prints its client_id (a shared secret, if any, is shown only here)')
    .requiredOption('--name <name>', 'name shown to people signing in')
    .option('--redirect-uri <uri>', 'allowed redirect URI (repeat for more)', collect, [])
    .option('--post-logout-redirect-uri <uri>', 'allowed post-logout redirect URI (repeat for more)', collect, [])
    .option('--public', 'public client (browser or native app): no client authentication, PKCE')
    .option('--jwks <file>', "the client's public keys (JWK Set) for private_key_jwt", readJwks)
    .option('--grant-types <list>', `comma-separated: ${GRANT_TYPES.join(', ')}`, parseGrantTypes, ['authorization_code', 'refresh_token'] as GrantType[])
    .option('--require-dpop', 'only issue DPoP-bound access tokens to it (RFC 9449)')
    .option('--resource-server <uri>', 'the client is this API (a KEYBOUND_OIDC_RESOURCES indicator): it may introspect tokens for it (RFC 7662)')
    .option('--id-token-alg <alg>', 'sign its ID tokens with RS256 instead of KEYBOUND_OIDC_SIGNING_ALG')
    .option('--min-acr <acr>', `weakest sign-in it may get a code or token from: ${ACR_VALUES.join(', ')} (default urn:keybound:aal2:phr)`)
    .option('--first-party', 'an application of your organisation: people are not asked to consent')
    .option('--sensitive', 'the risk policy treats its sign-ins as sensitive_client (by default: a passkey sign-in no older than 10 minutes; docs/risk.md)')
    .option('--scope <scopes...>', 'scopes it may ask for, OpenID and API ones (default: openid profile email for sign-in clients, none otherwise)')
    .option('--resource <uris...>', 'KEYBOUND_OIDC_RESOURCES indicators it may ask tokens for (default: none)')
    // Back-channel logout (OpenID Connect Back-Channel Logout 1.0; src/oidc/backchannel.ts).
    .option('--backchannel-logout-uri <uri>', 'where Keybound POSTs a logout token when a session the client has a grant from ends (https://; http:// only on loopback)')
    .option('--backchannel-logout-session-required', 'logout tokens and ID tokens carry sid (backchannel_logout_session_required)')
    .option('--json', 'print the client as JSON')
    .action(async (o: CreateOptions) => {
      const result = await withDeps(async (deps) =>
        createClient(
          deps,
          {
            name: o.name,
            redirectUris: o.redirectUri,
            postLogoutRedirectUris: o.postLogoutRedirectUri,
            public: o.public ?? false,
            jwks: o.jwks ?? null,
            grantTypes: o.grantTypes,
            requireDpop: o.requireDpop ?? false,
            resourceServer: o.resourceServer ?? null,
            idTokenSigningAlg: o.idTokenAlg ?? null,
            minAcr: o.minAcr ?? null,
            firstParty: o.firstParty ?? false,
            sensitive: o.sensitive ?? false,
            scopes: o.scope ? splitList(o.scope) : null,
            resources: o.resource ?? null,
            backchannelLogoutUri: o.backchannelLogoutUri ?? null,
            backchannelLogoutSessionRequired: o.backchannelLogoutSessionRequired ?? false,
          },
          await providerValidator(deps),
        ),
      );
      if (!result.ok) fail(result.message ?? result.code);
      const { client, secret } = result.value;
      const shown = { ...describeClient(client), ...(secret ? { client_secret: secret } : {}) };
      print(
        o.json ?? false,
        shown,
        `Client ${client.name}: client_id ${client.clientId} (${String(client.metadata.token_endpoint_auth_method)})${secret ? `\nShared secret (shown once): ${secret}` : ''}`,
      );
    });
  clients
    .command('list')
    .description('list clients')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const rows = await withDeps(async (deps) => (await deps.store.oidcClients.list()).map(describeClient));
      const lines = rows.map((c) => {
        const policy = clientPolicy(c);
        return `${String(c.client_id)}  ${String(c.name)}  ${String(c.token_endpoint_auth_method)}  ${(c.grant_types as string[]).join(',')}  ${policy.minAcr}${policy.firstParty ? '  first-party' : ''}  scopes: ${policy.scopes.join(' ') || 'none'}  resources: ${policy.resources.join(' ') || 'none'}`;
      });
      print(o.json ?? false, rows, lines.length ? lines.join('\n') : 'No clients.');
    });
  clients
    .command('update')
    .description("change a client's minimum level, consent and allowlists; options left out stay as they are (--scope and --resource replace the list)")
    .argument('<client_id>')
    .option('--min-acr <acr>', `weakest sign-in it may get a code or token from: ${ACR_VALUES.join(', ')}`)
    .option('--first-party', 'people are not asked to consent')
    .option('--no-first-party', 'people are asked to consent')
    .option('--sensitive', 'the risk policy treats its sign-ins as sensitive_client (docs/risk.md)')
    .option('--no-sensitive', 'not sensitive')
    .option('--scope <scopes...>', 'scopes it may ask for')
    .option('--resource <uris...>', 'KEYBOUND_OIDC_RESOURCES indicators it may ask tokens for')
    .option('--no-resource', 'no resource at all')
    .option('--json', 'print the client as JSON')
    .action(async (clientId: string, o: { minAcr?: string; firstParty?: boolean; sensitive?: boolean; scope?: string[]; resource?: string[] | false; json?: boolean }) => {
      const result = await withDeps((deps) =>
        updateClientPolicy(deps, clientId, {
          minAcr: o.minAcr ?? null,
          ...(o.firstParty !== undefined ? { firstParty: o.firstParty } : {}),
          ...(o.sensitive !== undefined ? { sensitive: o.sensitive } : {}),
          scopes: o.scope ? splitList(o.scope) : null,
          resources: o.resource === false ? [] : (o.resource ?? null),
        }),
      );
      if (!result.ok) fail(result.message ?? result.code);
      const policy = clientPolicy(result.value.metadata);
      print(o.json ?? false, describeClient(result.value), `Client ${result.value.name} (${clientId}): ${policy.minAcr}${policy.firstParty ? ', first-party' : ''}; scopes ${policy.scopes.join(' ') || 'none'}; resources ${policy.resources.join(' ') || 'none'}`);
    });
  clients
    .command('delete')
    .description('delete a client: its refresh tokens stop working at once; JWT access tokens live until they expire')
    .argument('<client_id>')
    .action(async (clientId: string) => {
      const result = await withDeps((deps) => deleteClient(deps, clientId));
      if (!result.ok) fail(`no client ${clientId}`);
      process.stdout.write(`Deleted client ${clientId}\n`);
    });

  const keys = program.commands.find((c) => c.name() === 'keys') ?? program.command('keys').description('encryption and signing keys');
  keys
    .command('rotate-signing')
    .description('publish the next token-signing key; it signs after KEYBOUND_OIDC_KEY_LEAD, the old one verifies for KEYBOUND_OIDC_KEY_OVERLAP after that')
    .option('--overlap <seconds>', 'how long the old key keeps verifying after the new one signs', seconds)
    .option('--lead <seconds>', 'how long the new key is published before it signs', seconds)
    .option('--alg <alg>', 'rotate the key of this algorithm (default: KEYBOUND_OIDC_SIGNING_ALG; RS256 is the other one kept)')
    .option('--json', 'print JSON')
    .action(async (o: { overlap?: number; lead?: number; alg?: string; json?: boolean }) => {
      const rotation = await withDeps(async (deps) => {
        await ensureSigningKey(deps);
        const alg = o.alg === undefined ? undefined : signingAlgs(deps).find((a) => a === o.alg);
        if (o.alg !== undefined && !alg) fail(`--alg must be one of ${signingAlgs(deps).join(', ')}`);
        return rotateSigningKey(deps, { ...(alg ? { alg } : {}), ...(o.overlap !== undefined ? { overlapMs: o.overlap * 1000 } : {}), ...(o.lead !== undefined ? { leadMs: o.lead * 1000 } : {}) });
      });
      const until = rotation.retired ? new Date(rotation.retired.until).toISOString() : null;
      const from = new Date(rotation.activeFrom).toISOString();
      print(
        o.json ?? false,
        { kid: rotation.kid, alg: rotation.alg, activeFrom: from, retired: rotation.retired?.kid ?? null, retiredUntil: until },
        `New signing key ${rotation.kid} (${rotation.alg}) is in the JWKS now and signs from ${from}${rotation.retired ? `; ${rotation.retired.kid} signs until then and verifies until ${until}` : ''}`,
      );
    });
  keys
    .command('list-signing')
    .description('list the token-signing keys in the JWKS')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const rows = await withDeps(async (deps) =>
        (await deps.store.oidcKeys.listLive(deps.clock())).map((k) => ({
          kid: k.kid,
          alg: k.alg,
          status: k.status,
          createdAt: new Date(k.createdAt).toISOString(),
          activateAt: k.activateAt ? new Date(k.activateAt).toISOString() : null,
          retireAt: k.retireAt ? new Date(k.retireAt).toISOString() : null,
        })),
      );
      print(o.json ?? false, rows, rows.map((k) => `${k.kid}  ${k.alg}  ${k.status}${k.retireAt ? ` until ${k.retireAt}` : ''}`).join('\n') || 'No signing keys yet (one is made on first start).');
    });
}
