import type { Redis } from 'ioredis';
import { createChangeChannel, type ChannelLogger } from '../cache/change-channel.ts';
import type { ChangeSubscriber } from '../cache/change-subscriber.ts';
import type { KeyChangeNotices } from './key-ring.ts';

/** The Redis pub/sub channel on which a key-set change is announced (payload: the new version). */
export function keyChangeChannel(redisPrefix: string): string {
  return `${redisPrefix}keys`;
}

/** Key-change notices over the shared change channel (src/cache/change-channel.ts). */
export interface KeyNotices extends KeyChangeNotices {
  /** Announces now and says how many instances listen; rejects when Redis did not take it (the CLI reports it). */
  announceNow(version: number): Promise<number>;
  /** Stops the retries of `announce` after one last attempt. */
  close(): Promise<void>;
}

/**
 * A key-set change announced to every instance: `announce` resolves once Redis has handed the
 * notice to every subscribed connection, and a notice Redis did not take is sent again until it
 * does (the change channel's guarantees: docs/STORAGE.md, *Change notices*). Every instance also
 * polls the version, the bound when no notice can arrive. A listener reloads on each notice and
 * once its subscription is back after a loss (notices may have been missed meanwhile).
 */
export function keyChangeNotices({ redis, redisPrefix, logger, subscriber }: { redis: Redis; redisPrefix: string; logger: ChannelLogger; subscriber?: ChangeSubscriber | undefined }): KeyNotices {
  const channel = createChangeChannel({ redis, channel: keyChangeChannel(redisPrefix), logger, subscriber });
  return {
    announce: (version) => channel.publish(String(version)),
    announceNow: (version) => channel.publishNow(String(version)),
    async listen(onNotice) {
      const subscription = await channel.subscribe(
        () => onNotice(),
        () => onNotice(),
        () => {},
      );
      return () => subscription.close();
    },
    close: () => channel.close(),
  };
}
