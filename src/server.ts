import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import type { JWK } from 'jose';
import { startAccountLayer } from './accounts/setup.ts';
import { apiModel } from './apis/model.ts';
import { createApiRegistry } from './apis/registry.ts';
import { createApp } from './app.ts';
import type { Config } from './config/load.ts';
import { createSecretBox, deriveKey } from './crypto/secret-box.ts';
import { interactionRoutes } from './interactions/routes.ts';
import { createViews } from './interactions/views.ts';
import { cookieKeyList, createKeyStore, providerJwks, type KeySet } from './keys/key-store.ts';
import { keySetModel } from './keys/model.ts';
import type { Logger } from './observability/logger.ts';
import { accountDirectory } from './oidc/accounts.ts';
import { providerConfiguration } from './oidc/configuration.ts';
import { createJwtRecords } from './oidc/jwt-records.ts';
import { createProvider } from './oidc/provider.ts';
import { connectMongo, pingMongo } from './storage/mongo.ts';
import { connectRedis, pingRedis } from './storage/redis.ts';

export interface RunningGatehouse {
  readonly url: string;
  readonly server: Server;
  readonly keySet: KeySet;
  /** Stops accepting, lets in-flight requests finish (up to the shutdown timeout), closes stores. */
  close(): Promise<void>;
}

/** Raised when a backing service cannot be reached at startup; names the setting. */
export class StartupError extends Error {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = 'StartupError';
    this.setting = setting;
  }
}

const VIEWS_DIRECTORY = fileURLToPath(new URL('../views', import.meta.url));

const PUBLIC_MEMBERS = ['kid', 'kty', 'alg', 'use', 'n', 'e', 'crv', 'x', 'y'] as const;

function publicJwk(jwk: JWK): JWK {
  return Object.fromEntries(PUBLIC_MEMBERS.filter((name) => jwk[name] !== undefined).map((name) => [name, jwk[name]]));
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function openStores(config: Config): Promise<{ mongo: Connection; redis: Redis | undefined }> {
  let mongo: Connection;
  try {
    mongo = await connectMongo({ uri: config.mongodbUri.reveal(), timeoutMs: config.mongodbTimeoutMs });
  } catch (error) {
    throw new StartupError('MONGODB_URI', `cannot connect to MongoDB (${reason(error)})`);
  }
  if (config.redisUrl === undefined) return { mongo, redis: undefined };
  try {
    return { mongo, redis: await connectRedis({ url: config.redisUrl.reveal(), timeoutMs: config.redisTimeoutMs }) };
  } catch (error) {
    await mongo.close();
    throw new StartupError('REDIS_URL', `cannot connect to Redis (${reason(error)})`);
  }
}

/** Wires everything from a validated config and starts listening. */
export async function startGatehouse(config: Config, logger: Logger): Promise<RunningGatehouse> {
  const { mongo, redis } = await openStores(config);
  const closers: Array<() => Promise<void>> = [];
  try {
    const keyStore = createKeyStore({ model: keySetModel(mongo), box: createSecretBox(config.secret.reveal(), 'keys') });
    const keySet = await keyStore.loadOrCreate();
    const accountLayer = await startAccountLayer({ config, mongo, redis, logger });
    closers.push(() => accountLayer.close());
    const accounts = accountDirectory(accountLayer.accounts);
    const apis = createApiRegistry({ model: apiModel(mongo) });
    const jwtRecords = createJwtRecords({ secret: config.secret.reveal() });
    const https = new URL(config.issuer).protocol === 'https:';

    const now = new Date();
    const cookieKeys = cookieKeyList(keySet, now);
    const jwks = providerJwks(keySet, now);
    const provider = createProvider({
      issuer: config.issuer,
      configuration: providerConfiguration({
        jwks,
        cookieKeys,
        lifetimes: config.lifetimes,
        requirePkce: config.requirePkce,
        https,
        dpopNonceSecret: deriveKey(config.secret.reveal(), 'dpop-nonce'),
        accounts,
        apis,
        jwtCustomizer: jwtRecords.customizer,
        interactionUrl: (uid) => `/interaction/${uid}`,
      }),
    });
    const publicJwks = { keys: jwks.map(publicJwk) };

    const readiness: Record<string, () => Promise<void>> = { mongodb: () => pingMongo(mongo) };
    if (redis !== undefined) readiness.redis = () => pingRedis(redis);

    const app = createApp({
      issuer: config.issuer,
      trustProxy: config.trustProxy,
      cookieKeys,
      logger,
      readiness,
      readinessTimeoutMs: Math.max(config.mongodbTimeoutMs, config.redisTimeoutMs),
      provider: () => provider,
      interactions: interactionRoutes({
        provider: () => provider,
        authenticator: {
          async authenticate(login, password, ip) {
            const result = await accountLayer.accounts.authenticate(login, password, ip);
            return result.ok ? { ok: true, sub: result.user.id } : { ok: false };
          },
        },
        views: createViews(VIEWS_DIRECTORY),
        logger,
        productName: 'Gatehouse',
        secureCookies: https,
      }),
      beforeProvider: [jwtRecords.swapStructuredToken({ issuer: config.issuer, publicJwks: () => publicJwks })],
    });

    const server = createServer(app.callback());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${port}`;

    let closing: Promise<void> | undefined;
    return {
      url,
      server,
      keySet,
      close() {
        closing ??= (async () => {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
          await closed;
          clearTimeout(timer);
          for (const close of closers.reverse()) await close();
          await mongo.close();
          if (redis !== undefined) await redis.quit().catch(() => redis.disconnect());
        })();
        return closing;
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => {});
    await mongo.close().catch(() => {});
    redis?.disconnect();
    throw error;
  }
}
