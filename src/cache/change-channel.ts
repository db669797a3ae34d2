import type { Redis } from 'ioredis';
import type { ChangeSubscriber } from './change-subscriber.ts';

export interface ChannelLogger {
  warn(obj: object, msg: string): void;
}

/**
 * A notice that tells every listener to forget everything (ChangeChannel subscribe's onResync): sent
 * in place of the undelivered notices when more than MAX_PENDING of them piled up. No id is this
 * string (ids are never empty of printable characters and this one starts with NUL).
 */
export const FLUSH_NOTICE = '\u0000flush';

/** Undelivered notices kept for their retry; beyond it they are replaced by one FLUSH_NOTICE. */
const MAX_PENDING = 10_000;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2_000;
/** A Redis pub/sub channel that tells every instance to drop one id from its cache. */
export interface ChangeChannel {
  /**
   * Announces a change, resolving once Redis has handed the notice to every subscribed
   * connection (not merely taken it). The first attempt is awaited; a notice Redis did not take (this
   * instance's connection broken) is kept and sent again — as soon as the connection is back,
   * and with a backoff until then — until Redis takes it (docs/STORAGE.md, *Change notices*).
   * Never rejects.
   */
  publish(id: string): Promise<void>;
  /**
   * Announces a change now, for a caller that reports the outcome (the operator's cache flush, a
   * key rotation by the CLI): resolves like `publish` — once Redis has handed the notice to every
   * subscribed connection — with how many there were, and rejects with Redis's error when Redis
   * did not take it. Nothing is kept for a retry: the caller says it failed.
   */
  publishNow(id: string): Promise<number>;
  /** Notices not delivered yet (waiting for their retry). */
  pending(): number;
  /**
   * Listens through the instance's one subscriber connection (src/cache/change-subscriber.ts).
   * While that connection is lost, notices may be missed: `onSuspend` runs when it breaks (or
   * stops answering its heartbeat, or was down when this subscription was made), `onResync` once
   * the subscription is back (and on a FLUSH_NOTICE). Without `onSuspend`, `onResync` runs at both
   * ends. Only a channel given a subscriber can subscribe.
   */
  subscribe(onChange: (id: string) => void, onResync: () => void, onSuspend?: () => void): Promise<{ close(): Promise<void> }>;
  /** Stops the retries after one last attempt at what is pending (a notice still undelivered is logged). */
  close(): Promise<void>;
}

export interface ChangeChannelDeps {
  readonly redis: Redis;
  readonly channel: string;
  readonly logger: ChannelLogger;
  /** The instance's subscriber connection; absent where nothing listens (a CLI command only announces). */
  readonly subscriber?: ChangeSubscriber | undefined;
}

export function createChangeChannel({ redis, channel, logger, subscriber }: ChangeChannelDeps): ChangeChannel {
  /** Undelivered notices, oldest first (a Set: the same notice twice is one). */
  const undelivered = new Set<string>();
  let failingSinceMs: number | undefined;
  let retryMs = RETRY_FIRST_MS;
  let retry: NodeJS.Timeout | undefined;
  let delivering: Promise<void> | undefined;
  let closed = false;

  function keep(id: string): void {
    if (undelivered.has(FLUSH_NOTICE)) return;
    if (undelivered.size >= MAX_PENDING) {
      // Too many to send one by one: every listener forgets everything instead.
      undelivered.clear();
      undelivered.add(FLUSH_NOTICE);
      return;
    }
    undelivered.add(id);
  }

  function scheduleRetry(): void {
    if (closed || retry !== undefined || undelivered.size === 0) return;
    retry = setTimeout(() => {
      retry = undefined;
      void deliver();
    }, retryMs);
    retry.unref();
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  }

  /** Sends every undelivered notice (in one pipelined write); what Redis refuses stays for the next try. */
  function deliver(): Promise<void> {
    delivering ??= (async () => {
      while (undelivered.size > 0) {
        const batch = [...undelivered];
        const results = await Promise.allSettled(batch.map((id) => redis.publish(channel, id)));
        let failed = false;
        results.forEach((result, index) => {
          if (result.status === 'fulfilled') undelivered.delete(batch[index]!);
          else failed = true;
        });
        if (failed) break;
      }
    })().finally(() => {
      delivering = undefined;
      if (undelivered.size === 0) {
        if (failingSinceMs !== undefined) logger.warn({ channel, afterMs: Date.now() - failingSinceMs }, 'change notices delivered after Redis was unreachable');
        failingSinceMs = undefined;
        retryMs = RETRY_FIRST_MS;
      } else {
        scheduleRetry();
      }
    });
    return delivering;
  }

  /**
   * Resolves once Redis has written a notice it just took to every subscriber's connection.
   * Redis answers a PUBLISH and writes the message to each subscriber in the same turn of its
   * event loop, in no promised order (the answer can go first), and reads no other command
   * before that turn's writes are done: the answer to a command sent after the PUBLISH's
   * answer came back proves them out.
   * Without this, the writer's caller could reach another instance before its copy had left
   * Redis (docs/STORAGE.md, *Change notices: when a write has returned*). A failure here says
   * nothing about the notice Redis took already: it is ignored.
   */
  async function handedToSubscribers(): Promise<void> {
    await redis.ping().catch(() => {});
  }

  // Back on its feet: the notices that waited go at once.
  const reconnected = () => {
    if (undelivered.size > 0) void deliver();
  };
  redis.on('ready', reconnected);

  return {
    async publish(id) {
      try {
        await redis.publish(channel, id);
      } catch (error) {
        if (failingSinceMs === undefined) {
          failingSinceMs = Date.now();
          logger.warn({ err: error, channel }, 'change notice not published; retried until Redis takes it (until then other instances may serve their cached copy)');
        }
        keep(id);
        scheduleRetry();
        return;
      }
      await handedToSubscribers();
    },
    async publishNow(id) {
      const listeners = await redis.publish(channel, id);
      await handedToSubscribers();
      return listeners;
    },
    pending: () => undelivered.size,
    async subscribe(onChange, onResync, onSuspend = onResync) {
      if (subscriber === undefined) throw new Error(`change channel ${channel} has no subscriber`);
      return subscriber.listen(channel, {
        onMessage: (id) => (id === FLUSH_NOTICE ? onResync() : onChange(id)),
        onResync,
        onSuspend,
      });
    },
    async close() {
      closed = true;
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
      redis.off('ready', reconnected);
      if (undelivered.size > 0) await deliver();
      if (undelivered.size > 0) logger.warn({ channel, undelivered: undelivered.size }, 'change notices not delivered before shutdown; other instances may serve their cached copy until it expires');
    },
  };
}
