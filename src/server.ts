import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { createApp } from './app.ts';
import type { Config } from './config/load.ts';
import { createSecretBox } from './crypto/secret-box.ts';
import { cookieKeyList, createKeyStore, providerJwks, type KeySet } from './keys/key-store.ts';
import { keySetModel } from './keys/model.ts';
import type { Logger } from './observability/logger.ts';
import { providerConfiguration } from './oidc/configuration.ts';
import { openOidcStorage, type OidcStorage } from './oidc/storage.ts';
import { createProvider } from './oidc/provider.ts';
import { connectMongo, pingMongo } from './storage/mongo.ts';
import { connectRedis, pingRedis } from './storage/redis.ts';

export interface RunningGatehouse {
  readonly url: string;
  readonly server: Server;
  readonly keySet: KeySet;
  readonly storage: OidcStorage;
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
  let storage: OidcStorage | undefined;
  try {
    const keyStore = createKeyStore({ model: keySetModel(mongo), box: createSecretBox(config.secret.reveal(), 'keys') });
    const keySet = await keyStore.loadOrCreate();
    storage = await openOidcStorage({
      mongo,
      redis,
      redisPrefix: config.redisPrefix,
      reuseWindowSeconds: config.refreshReuseWindowSeconds,
      clientCacheTtlSeconds: config.clientCacheTtlSeconds,
      clientSecretBox: createSecretBox(config.secret.reveal(), 'client-secrets'),
      logger,
    });
    const now = new Date();
    const cookieKeys = cookieKeyList(keySet, now);
    const provider = createProvider({
      issuer: config.issuer,
      configuration: providerConfiguration({ jwks: providerJwks(keySet, now), cookieKeys, adapter: storage.adapter }),
    });

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
    });

    const server = createServer(app.callback());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${port}`;

    let closing: Promise<void> | undefined;
    const openStorage = storage;
    return {
      url,
      server,
      keySet,
      storage: openStorage,
      close() {
        closing ??= (async () => {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
          await closed;
          clearTimeout(timer);
          await openStorage.close();
          await mongo.close();
          if (redis !== undefined) await redis.quit().catch(() => redis.disconnect());
        })();
        return closing;
      },
    };
  } catch (error) {
    await storage?.close().catch(() => {});
    await mongo.close().catch(() => {});
    redis?.disconnect();
    throw error;
  }
}
