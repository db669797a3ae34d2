import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { createApp } from './app.ts';
import type { Config } from './config/load.ts';
import { createSecretBox } from './crypto/secret-box.ts';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';
import { announceKeyChange, listenForKeyChanges } from './keys/change-notice.ts';
import { createKeyRing, type KeyChangeNotices, type KeyRing } from './keys/key-ring.ts';
import { cookieKeyList, createKeyStore, type KeySet, type RotationResult } from './keys/key-store.ts';
import { keySetModel } from './keys/model.ts';
import type { Logger } from './observability/logger.ts';
import { providerBuilder } from './oidc/build-provider.ts';
import { connectMongo, pingMongo } from './storage/mongo.ts';
import { connectRedis, pingRedis } from './storage/redis.ts';

export interface RunningGatehouse {
  readonly url: string;
  readonly server: Server;
  readonly app: Koa;
  /** The key set this instance serves right now. */
  readonly keySet: KeySet;
  /** Rotates the shared keys now; every instance picks the change up (see docs/KEYS.md). */
  rotateKeys(): Promise<RotationResult>;
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

function redisNotices(redis: Redis): KeyChangeNotices {
  return {
    announce: (version) => announceKeyChange(redis, version),
    listen: (onNotice) => listenForKeyChanges(redis, onNotice),
  };
}

export interface StartOptions {
  /** Adds to every Provider's configuration (tests register clients this way). */
  readonly extendConfiguration?: (configuration: Configuration) => Configuration;
}

/** Wires everything from a validated config and starts listening. */
export async function startGatehouse(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningGatehouse> {
  const { mongo, redis } = await openStores(config);
  let ring: KeyRing<Provider> | undefined;
  try {
    let app: Koa | undefined;
    ring = createKeyRing({
      store: createKeyStore({ model: keySetModel(mongo), box: createSecretBox(config.secret.reveal(), 'keys') }),
      build: providerBuilder({ issuer: config.issuer, logger, extendConfiguration: options.extendConfiguration }),
      // Koa reads app.keys per request, so the app and the new provider sign cookies alike.
      onSwap: (_provider, keySet, now) => {
        if (app !== undefined) app.keys = cookieKeyList(keySet, now);
      },
      policy: config.keys,
      notices: redis === undefined ? undefined : redisNotices(redis),
      onError: (error, during) => logger.warn({ err: error, during }, 'key set update failed; serving the current keys'),
    });
    await ring.start();
    const keys = ring;

    const readiness: Record<string, () => Promise<void>> = { mongodb: () => pingMongo(mongo) };
    if (redis !== undefined) readiness.redis = () => pingRedis(redis);

    app = createApp({
      issuer: config.issuer,
      trustProxy: config.trustProxy,
      cookieKeys: cookieKeyList(keys.keySet(), new Date()),
      logger,
      readiness,
      readinessTimeoutMs: Math.max(config.mongodbTimeoutMs, config.redisTimeoutMs),
      provider: () => keys.current(),
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
      app,
      get keySet() {
        return keys.keySet();
      },
      rotateKeys: () => keys.rotate(),
      close() {
        closing ??= (async () => {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
          await closed;
          clearTimeout(timer);
          await keys.close();
          await mongo.close();
          if (redis !== undefined) await redis.quit().catch(() => redis.disconnect());
        })();
        return closing;
      },
    };
  } catch (error) {
    await ring?.close().catch(() => {});
    await mongo.close().catch(() => {});
    redis?.disconnect();
    throw error;
  }
}
