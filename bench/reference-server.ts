/**
 * The library's ceiling: bare oidc-provider with its in-memory adapter, the same signing keys,
 * algorithms, clients, APIs, lifetimes and refresh-token policy as Gatehouse, in one process.
 * Sign-in interactions finish at once (no password hash, no pages): the reference is the
 * ceiling for the protocol work, the hash limit is the ceiling for sign-ins.
 *
 *   node bench/reference-server.ts FIXTURE.json     → prints {"url": "..."} on stdout when listening
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { errors, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Fixture } from './lib/fixture.ts';
import { CLIENT_DEFAULTS } from '../src/oidc/configuration.ts';

const fixture = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Fixture;
const clients = Object.values(fixture.clients);
const apis = new Map(Object.values(fixture.apis).map((api) => [api.identifier, api]));
const clientApis = new Map(clients.map((client) => [client.client_id, client]));

const configuration: Configuration = {
  clients: clients.map(({ allowed_apis: _allowed, default_api: _default, ...metadata }) => ({ ...metadata }) as ClientMetadata),
  jwks: { keys: fixture.jwks.map((key) => ({ ...key })) },
  cookies: { keys: ['bench-reference-cookie-key-0123456789'] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  responseTypes: ['code'],
  clientDefaults: { ...CLIENT_DEFAULTS },
  pkce: { required: () => false },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx: KoaContextWithOIDC, client) => {
        const isClientCredentials = ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials';
        return isClientCredentials ? clientApis.get(client.clientId)?.default_api : undefined;
      },
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, identifier, client) => {
        const api = apis.get(identifier);
        if (api === undefined || !clientApis.get(client.clientId)?.allowed_apis.includes(identifier)) {
          throw new errors.InvalidTarget();
        }
        return {
          scope: api.scopes.join(' '),
          audience: api.identifier,
          accessTokenTTL: 600,
          accessTokenFormat: api.format,
          jwt: { sign: { alg: api.alg } },
        };
      },
    },
  },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  ttl: {
    AccessToken: 600,
    ClientCredentials: 600,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 30 * 24 * 3600,
    Session: 14 * 24 * 3600,
    Grant: 30 * 24 * 3600,
    Interaction: 3600,
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
};

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const provider = new Provider(url, configuration);
const callback = provider.callback();
const SUBJECT = 'bench-reference-user';

server.on('request', (req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/interaction/')) {
    finishInteraction(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
    return;
  }
  callback(req, res);
});

async function finishInteraction(req: Parameters<typeof callback>[0], res: Parameters<typeof callback>[1]): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    await provider.interactionFinished(req, res, { login: { accountId: SUBJECT } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
  const scope = details.prompt.details.missingOIDCScope as string[] | undefined;
  if (scope !== undefined) grant.addOIDCScope(scope.join(' '));
  const claims = details.prompt.details.missingOIDCClaims as string[] | undefined;
  if (claims !== undefined) grant.addOIDCClaims(claims);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

process.stdout.write(`${JSON.stringify({ url })}\n`);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
