import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/load.ts';
import { providerJwks } from '../../src/keys/key-store.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startGatehouse, type GatehouseServices } from '../../src/server.ts';
import { REDIRECT_URI, type BenchApi, type BenchClient, type BenchUser, type Fixture } from './fixture.ts';

export interface SeedOptions {
  /** Settings as the server reads them (MONGODB_URI, REDIS_URL, GATEHOUSE_SECRET, argon2 ...). */
  readonly settings: Record<string, string>;
  readonly users: number;
  readonly storageUsers: number;
  /** argon2 settings for the storage users: cheap, so 10,000 sign-ins take seconds, not minutes. */
  readonly cheapHashSettings: Record<string, string>;
}

const APIS: Fixture['apis'] = {
  rs256: { identifier: 'https://bench.example/rs256', scopes: ['read', 'write'], format: 'jwt', alg: 'RS256' },
  es256: { identifier: 'https://bench.example/es256', scopes: ['read', 'write'], format: 'jwt', alg: 'ES256' },
  opaque: { identifier: 'https://bench.example/opaque', scopes: ['read', 'write'], format: 'opaque', alg: 'RS256' },
};

async function withServices<T>(settings: Record<string, string>, use: (services: GatehouseServices, jwks: Fixture['jwks']) => Promise<T>): Promise<T> {
  const config = loadConfig({
    env: { NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'silent', ...settings },
    readFile: () => '',
  });
  const running = await startGatehouse(config, createLogger('silent'));
  try {
    return await use(running.services, providerJwks(running.keySet, new Date()));
  } finally {
    await running.close();
  }
}

async function serviceClient(services: GatehouseServices, name: string, api: BenchApi): Promise<BenchClient> {
  const metadata = {
    redirect_uris: [] as string[],
    grant_types: ['client_credentials'],
    response_types: [] as string[],
    token_endpoint_auth_method: 'client_secret_basic' as const,
    default_api: api.identifier,
  };
  const { client, secret } = await services.clients.create({ displayName: name, allowedApis: [api.identifier], metadata });
  return { client_id: client.clientId, client_secret: secret!, allowed_apis: [api.identifier], ...metadata };
}

async function createUsers(services: GatehouseServices, prefix: string, count: number): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  for (let index = 0; index < count; index += 1) {
    const user = { username: `${prefix}${index}`, password: randomBytes(12).toString('base64url') };
    await services.accounts.createUser({ ...user, email: `${prefix}${index}@bench.example`, name: `Bench User ${index}` });
    users.push(user);
  }
  return users;
}

/**
 * Seeds an empty database through Gatehouse's own services (the same code the CLI uses) and
 * returns what the loader and the reference server need, including the generated signing keys.
 */
export async function seed(options: SeedOptions): Promise<Fixture> {
  const seeded = await withServices(options.settings, async (services, jwks) => {
    for (const api of Object.values(APIS)) await services.apis.create({ ...api, scopes: [...api.scopes] });
    const webMetadata = {
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic' as const,
    };
    const web = await services.clients.create({ displayName: 'bench web app', firstParty: true, metadata: webMetadata });
    return {
      jwks,
      clients: {
        rs256: await serviceClient(services, 'bench rs256 service', APIS.rs256),
        es256: await serviceClient(services, 'bench es256 service', APIS.es256),
        opaque: await serviceClient(services, 'bench opaque service', APIS.opaque),
        web: { client_id: web.client.clientId, client_secret: web.secret!, allowed_apis: [], ...webMetadata },
      },
      users: await createUsers(services, 'bench-user-', options.users),
    };
  });
  const storageUsers = await withServices({ ...options.settings, ...options.cheapHashSettings }, (services) =>
    createUsers(services, 'bench-storage-', options.storageUsers),
  );
  return { ...seeded, apis: APIS, storageUsers };
}
