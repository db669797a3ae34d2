import { Redis } from 'ioredis';

export interface RedisOptions {
  readonly url: string;
  /** Upper bound for connecting and for any single command. */
  readonly timeoutMs: number;
}

/**
 * Opens an ioredis client that fails fast while Redis is away (no offline queue, one retry
 * per command, a command timeout) and keeps reconnecting in the background.
 */
export async function connectRedis({ url, timeoutMs }: RedisOptions): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  // Errors surface through the commands that need Redis; the client keeps reconnecting.
  redis.on('error', () => {});
  await redis.connect();
  return redis;
}

export async function pingRedis(redis: Redis): Promise<void> {
  await redis.ping();
}
