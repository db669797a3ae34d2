import type { Redis } from 'ioredis';
import { createChangeChannel } from '../cache/change-channel.ts';
import type { ChangeSubscriber } from '../cache/change-subscriber.ts';

interface WarnLogger {
  warn(obj: object, msg: string): void;
}

export function settingsChangesChannel(redisPrefix: string): string {
  return `${redisPrefix}settings:changed`;
}

/**
 * Change notices of the runtime settings: one Redis channel and one subscription per instance
 * for every group; a notice carries the group's id. Without Redis nothing is announced and the
 * stores fall back to short cache lifetimes.
 */
export interface SettingsNotices {
  /** Whether this instance hears other instances' changes (then caches may live longer). */
  readonly listening: boolean;
  publish(group: string): Promise<void>;
  /** `drop` runs on a notice for the group, and after a reconnect (notices may have been missed). */
  listen(group: string, drop: () => void): void;
  close(): Promise<void>;
}

export interface SettingsNoticesDeps {
  readonly redis: Redis | undefined;
  readonly redisPrefix: string;
  readonly logger: WarnLogger;
  /**
   * The instance's one subscriber connection (src/cache/change-subscriber.ts): with it, the other
   * instances' changes are listened to; without (one-shot processes, CLI commands), changes are
   * announced and none listened to.
   */
  readonly subscriber?: ChangeSubscriber | undefined;
}

export async function openSettingsNotices({ redis, redisPrefix, logger, subscriber }: SettingsNoticesDeps): Promise<SettingsNotices> {
  const channel = redis === undefined ? undefined : createChangeChannel({ redis, channel: settingsChangesChannel(redisPrefix), logger, subscriber });
  const listeners = new Map<string, Array<() => void>>();
  const dropAll = () => {
    for (const drops of listeners.values()) for (const drop of drops) drop();
  };
  const subscription =
    subscriber === undefined
      ? undefined
      : await channel?.subscribe((group) => {
          for (const drop of listeners.get(group) ?? []) drop();
        }, dropAll);
  return {
    listening: subscription !== undefined,
    publish: async (group) => channel?.publish(group),
    listen(group, drop) {
      listeners.set(group, [...(listeners.get(group) ?? []), drop]);
    },
    async close() {
      await subscription?.close();
    },
  };
}
