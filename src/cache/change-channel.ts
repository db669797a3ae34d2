import type { Redis } from 'ioredis';

interface WarnLogger {
  warn(obj: object, msg: string): void;
}

/** A Redis pub/sub channel that tells every instance to drop one id from its cache. */
export interface ChangeChannel {
  publish(id: string): Promise<void>;
  /**
   * Listens on a separate connection (a subscribed Redis connection cannot run other
   * commands). After a reconnect, notices may have been missed, so `onResync` runs then.
   */
  subscribe(onChange: (id: string) => void, onResync: () => void): Promise<{ close(): Promise<void> }>;
}

export interface ChangeChannelDeps {
  readonly redis: Redis;
  readonly channel: string;
  readonly logger: WarnLogger;
}

export function createChangeChannel({ redis, channel, logger }: ChangeChannelDeps): ChangeChannel {
  return {
    async publish(id) {
      try {
        await redis.publish(channel, id);
      } catch (error) {
        // Other instances still pick the change up when their cache entry expires.
        logger.warn({ err: error, channel, id }, 'change notice not published; other instances see it after the cache TTL');
      }
    },
    async subscribe(onChange, onResync) {
      const subscriber = redis.duplicate({ lazyConnect: true });
      subscriber.on('error', () => {});
      let connectedBefore = false;
      subscriber.on('ready', () => {
        if (connectedBefore) onResync();
        connectedBefore = true;
      });
      subscriber.on('message', (received: string, id: string) => {
        if (received === channel) onChange(id);
      });
      await subscriber.connect();
      await subscriber.subscribe(channel);
      return {
        async close() {
          await subscriber.quit().catch(() => subscriber.disconnect());
        },
      };
    },
  };
}
