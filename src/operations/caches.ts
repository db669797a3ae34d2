import type { Redis } from 'ioredis';
import { createChangeChannel, FLUSH_NOTICE, type ChannelLogger } from '../cache/change-channel.ts';
import { StoreUnavailableError } from '../errors/store-unavailable.ts';
import { keyChangeChannel } from '../keys/change-notice.ts';
import type { KeyControl } from '../keys/key-control.ts';
import type { AuditTrail } from '../observability/audit-trail.ts';
import { userChangesChannel } from '../oidc/account-cache.ts';
import { clientChangesChannel, oidcRecordChangesChannel } from '../oidc/storage.ts';
import { settingsChangesChannel } from '../settings/notices.ts';
import { upstreamChangesChannel } from '../upstream/provider-list.ts';
import type { OperationContext } from './context.ts';
import { OperationError } from './errors.ts';

export interface CacheFlushDeps {
  readonly redis: Redis | undefined;
  readonly redisPrefix: string;
  readonly logger: ChannelLogger;
  readonly keys: Pick<KeyControl, 'keySet'>;
  readonly audit: AuditTrail;
}

/** Each instance's cache and the channel whose notices keep it current (the order reports list them in). */
const CACHES = [
  ['clients', clientChangesChannel],
  ['sessions', oidcRecordChangesChannel],
  ['users', userChangesChannel],
  ['settings', settingsChangesChannel],
  ['upstream', upstreamChangesChannel],
] as const;

/**
 * After a database restore or a manual edit — writes no instance announced — every instance's
 * in-memory copies (clients; sessions, grants and tokens' records; user profiles; runtime
 * settings; upstream providers) may be stale until they expire. The flush sends each cache's
 * "forget everything" notice (FLUSH_NOTICE, as an instance sends when too many notices piled
 * up), and a key-change notice, on which every instance reloads the key set if it changed.
 * `listeners`: the subscriptions that heard it (one per instance, or per worker). Each goes
 * through the change channel, so the flush returns only once Redis has handed every notice to
 * every instance (docs/STORAGE.md, *Change notices: when a write has returned*); one Redis did
 * not take is a 503, nothing retried behind the operator's back. Without Redis nothing reaches
 * other instances: their copies expire on their own TTLs.
 */
export function cacheOperations({ redis, redisPrefix, logger, keys, audit }: CacheFlushDeps) {
  return {
    async flush(ctx: OperationContext) {
      if (redis === undefined) throw new OperationError(409, 'caches_not_shared');
      const publish = async (channel: string, message: string) => {
        const notices = createChangeChannel({ redis, channel, logger });
        try {
          return await notices.publishNow(message);
        } catch (error) {
          throw new StoreUnavailableError('redis', { cause: error });
        } finally {
          await notices.close();
        }
      };
      const caches: Array<{ cache: string; listeners: number }> = [];
      for (const [cache, channelOf] of CACHES) caches.push({ cache, listeners: await publish(channelOf(redisPrefix), FLUSH_NOTICE) });
      const version = (await keys.keySet())?.version;
      caches.push({ cache: 'keys', listeners: await publish(keyChangeChannel(redisPrefix), String(version ?? 0)) });
      await audit.write({ ...ctx, type: 'caches.flushed', target: null, details: { listeners: Object.fromEntries(caches.map(({ cache, listeners }) => [cache, listeners])) } });
      return { flushed: true, caches };
    },
  };
}
