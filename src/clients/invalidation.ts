import type { Redis } from 'ioredis';
import type { WarnLogger } from '../storage/oidc/mongo-indexes.ts';

export interface ClientInvalidation {
  /** Tells every instance to drop the client from its cache. */
  publish(clientId: string): Promise<void>;
  /**
   * Listens on a separate connection (a subscribed Redis connection cannot run other
   * commands). After a reconnect, notices may have been missed, so `onResync` runs then.
   */
  subscribe(onChange: (clientId: string) => void, onResync: () => void): Promise<{ close(): Promise<void> }>;
}

export interface ClientInvalidationDeps {
  readonly redis: Redis;
  readonly channel: string;
  readonly logger: WarnLogger;
}

export function createClientInvalidation({ redis, channel, logger }: ClientInvalidationDeps): ClientInvalidation {
  return {
    async publish(clientId) {
      try {
        await redis.publish(channel, clientId);
      } catch (error) {
        // Other instances still pick the change up when their cache entry expires.
        logger.warn({ err: error, clientId }, 'client change notice not published; other instances see it after the cache TTL');
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
      subscriber.on('message', (received: string, clientId: string) => {
        if (received === channel) onChange(clientId);
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
