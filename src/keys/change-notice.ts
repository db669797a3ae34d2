import type { Redis } from 'ioredis';

/** The Redis pub/sub channel on which a key-set change is announced (payload: the new version). */
export function keyChangeChannel(redisPrefix: string): string {
  return `${redisPrefix}keys`;
}

export async function announceKeyChange(redis: Redis, redisPrefix: string, version: number): Promise<void> {
  await redis.publish(keyChangeChannel(redisPrefix), String(version));
}

/**
 * Listens for key-change notices on a dedicated connection (a subscribed ioredis client can
 * run no other commands). ioredis re-subscribes after a reconnect; notices sent while the
 * connection is down are lost, which is why every instance also polls the version.
 * Resolves to a function that stops listening.
 */
export async function listenForKeyChanges(redis: Redis, redisPrefix: string, onNotice: () => void): Promise<() => Promise<void>> {
  const channel = keyChangeChannel(redisPrefix);
  const subscriber = redis.duplicate();
  subscriber.on('error', () => {});
  subscriber.on('message', (received: string) => {
    if (received === channel) onNotice();
  });
  try {
    if (subscriber.status === 'wait') await subscriber.connect();
    await subscriber.subscribe(channel);
  } catch (error) {
    subscriber.disconnect();
    throw error;
  }
  return async () => {
    await subscriber.quit().catch(() => subscriber.disconnect());
  };
}
