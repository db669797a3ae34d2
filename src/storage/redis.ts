import { Redis } from 'ioredis';

export interface RedisOptions {
  readonly url: string;
  /** Upper bound for connecting and for any single command. */
  readonly timeoutMs: number;
}

/** host:port of a Redis URL, without credentials (for messages). */
export function redisAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port === '' ? '6379' : parsed.port}`;
  } catch {
    return 'the configured address';
  }
}

/** Redis could not be reached: names the address (never the credentials) and the reason. */
export class RedisConnectError extends Error {
  override readonly name = 'RedisConnectError';
  readonly address: string;

  constructor(address: string, reason: string) {
    super(`cannot connect to Redis at ${address} (${reason})`);
    this.address = address;
  }
}

/**
 * Opens an ioredis client that fails fast while Redis is away (no offline queue, one retry
 * per command, a command timeout) and keeps reconnecting in the background. Commands issued in
 * the same tick of the event loop leave in one write (ioredis auto-pipelining): under load,
 * concurrent requests share a system call instead of paying one each (docs/PERFORMANCE.md).
 */
export async function connectRedis({ url, timeoutMs }: RedisOptions): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  // Errors surface through the commands that need Redis; the client keeps reconnecting.
  // The first connection's error is kept: connect() itself only says "Connection is closed."
  let lastError: Error | undefined;
  const remember = (error: Error) => {
    lastError = error;
  };
  redis.on('error', remember);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const reason = lastError?.message ?? (error instanceof Error ? error.message : String(error));
    throw new RedisConnectError(redisAddress(url), reason);
  }
  redis.off('error', remember);
  redis.on('error', () => {});
  return redis;
}

export async function pingRedis(redis: Redis): Promise<void> {
  await redis.ping();
}
