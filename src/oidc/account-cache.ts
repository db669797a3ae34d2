import type { Redis } from 'ioredis';
import { ALL_USERS, type UserChangeHook } from '../accounts/user-changes.ts';
import { createBoundedCache } from '../cache/bounded-cache.ts';
import { createChangeChannel } from '../cache/change-channel.ts';
import type { ChangeSubscriber } from '../cache/change-subscriber.ts';
import type { WarnLogger } from '../storage/oidc/mongo-indexes.ts';
import type { AccountDirectory, AccountProfile } from './accounts.ts';

const ACCOUNT_CACHE_ENTRIES = 10_000;
/** Bytes of profiles held (estimated from their JSON; custom profile attributes make them vary). */
const ACCOUNT_CACHE_BYTES = 8 * 1024 * 1024;

/** The channel on which user changes are announced to every instance. */
export function userChangesChannel(redisPrefix: string): string {
  return `${redisPrefix}users:changed`;
}

export interface AccountCacheDeps {
  readonly redis: Redis | undefined;
  readonly redisPrefix: string;
  /** 0 turns the cache off: every lookup reads the database. */
  readonly ttlSeconds: number;
  readonly logger: WarnLogger;
  /**
   * The instance's one subscriber connection (src/cache/change-subscriber.ts): with it, the other
   * instances' changes are listened to; without (one-shot processes, CLI commands), changes are
   * announced and none listened to.
   */
  readonly subscriber?: ChangeSubscriber | undefined;
  /** The cache's clock in milliseconds (src/clock.ts). */
  readonly now?: () => number;
}

export interface AccountCache {
  /** findActive through the cache; only active users are kept, never misses or disabled users. */
  directory(source: AccountDirectory): AccountDirectory;
  /**
   * For a sign-in, which reads the user by login: keeps the profile it read as if findActive had
   * loaded it (unless the user changed meanwhile), so the tokens' claims right after it need no
   * second read. Call before reading; `end()` in a finally.
   */
  signingIn(): { signedIn(profile: AccountProfile): void; end(): void };
  /** Call after every write to a user: drops it here and announces it to the other instances. */
  readonly onUserChange: UserChangeHook;
  close(): Promise<void>;
}

/**
 * Userinfo, token and introspection calls resolve the user on every request. This keeps active
 * profiles for a few seconds per instance; a disabled user is still cut off at once, because
 * every change is announced over Redis (without Redis, within the TTL).
 */
export async function openAccountCache({ redis, redisPrefix, ttlSeconds, logger, subscriber, now }: AccountCacheDeps): Promise<AccountCache> {
  const channel = redis === undefined ? undefined : createChangeChannel({ redis, channel: userChangesChannel(redisPrefix), logger, subscriber });
  let source: AccountDirectory | undefined;
  const profiles = createBoundedCache<AccountProfile>({
    load: async (sub) => source?.findActive(sub),
    ttlMs: ttlSeconds * 1000,
    maxEntries: ACCOUNT_CACHE_ENTRIES,
    maxBytes: ACCOUNT_CACHE_BYTES,
    sizeOf: (profile) => JSON.stringify(profile).length + 160,
    cacheMisses: false,
    ...(now === undefined ? {} : { now }),
  });
  const drop = (userId: string) => (userId === ALL_USERS ? profiles.clear() : profiles.invalidate(userId));
  const subscription = subscriber === undefined ? undefined : await channel?.subscribe(drop, () => profiles.clear());
  return {
    directory(directory) {
      source = directory;
      return { findActive: (sub) => profiles.read(sub) };
    },
    signingIn() {
      const ahead = profiles.begin();
      return { signedIn: (profile) => ahead.store(profile.sub, profile), end: ahead.end };
    },
    async onUserChange(userId) {
      drop(userId);
      await channel?.publish(userId);
    },
    async close() {
      await subscription?.close();
    },
  };
}
