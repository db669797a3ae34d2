import type { Redis } from 'ioredis';

/** The Redis pub/sub channel on which a key-set change is announced (payload: the new version). */
export const KEY_CHANGE_CHANNEL = 'gatehouse:keys';

export async function announceKeyChange(redis: Redis, version: number): Promise<void> {
  await redis.publish(KEY_CHANGE_CHANNEL, String(version));
}

/**
 * Listens for key-change notices on a dedicated connection (a subscribed ioredis client can
 * run no other commands). ioredis re-subscribes after a reconnect; notices sent while the
 * connection is down are lost, which is why every instance also polls the version.
 * Resolves to a function that stops listening.
 */
export async function listenForKeyChanges(redis: Redis, onNotice: () => void): Promise<() => Promise<void>> {
  const subscriber = redis.duplicate();
  subscriber.on('error', () => {});
  subscriber.on('message', (channel: string) => {
    if (channel === KEY_CHANGE_CHANNEL) onNotice();
  });
  if (subscriber.status === 'wait') await subscriber.connect();
  await subscriber.subscribe(KEY_CHANGE_CHANNEL);
  return async () => {
    await subscriber.quit().catch(() => subscriber.disconnect());
  };
}
