import type { RunningGatehouse } from '../../src/server.ts';
import { FAST_HASHING, seed, type Seeded } from './e2e.ts';
import { startInstance, type InstanceOptions } from './instance.ts';
import { freePort, TestRedis } from './redis-server.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase } from './stores.ts';

/** A seeded Gatehouse on an emptied database with a Redis the test owns (to stop and start it). */
export interface OwnRedisInstance {
  readonly redis: TestRedis;
  readonly gatehouse: RunningGatehouse;
  readonly issuer: string;
  readonly mongodbUri: string;
  readonly cast: Seeded;
  /** Stops the instance and the Redis, and drops the database. */
  close(): Promise<void>;
}

/**
 * Starts it with fast hashing, a 1 s Redis timeout (outage tests fail fast) and `settings` on top.
 * Whatever started is stopped again if a later step fails.
 */
export async function startWithOwnRedis(
  name: string,
  { settings = {}, clock, logger }: { readonly settings?: Record<string, string> } & Pick<InstanceOptions, 'clock' | 'logger'> = {},
): Promise<OwnRedisInstance> {
  const mongodbUri = emptyDatabaseUri(name);
  const redis = await TestRedis.start();
  let gatehouse: RunningGatehouse | undefined;
  const close = async () => {
    await gatehouse?.close();
    await redis.stop();
    await recycleDatabase(mongodbUri);
  };
  try {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    gatehouse = await startInstance({
      mongodbUri,
      redisUrl: redis.url,
      secret: randomSecret(),
      issuer,
      ...(clock === undefined ? {} : { clock }),
      ...(logger === undefined ? {} : { logger }),
      settings: { ...FAST_HASHING, PORT: String(port), GATEHOUSE_REDIS_TIMEOUT: '1', ...settings },
    });
    return { redis, gatehouse, issuer, mongodbUri, cast: await seed(gatehouse), close };
  } catch (error) {
    await close();
    throw error;
  }
}
