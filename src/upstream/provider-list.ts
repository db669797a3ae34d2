import type { Redis } from 'ioredis';
import { createBoundedCache } from '../cache/bounded-cache.ts';
import { createChangeChannel } from '../cache/change-channel.ts';
import type { ChangeSubscriber } from '../cache/change-subscriber.ts';
import type { UpstreamDirectory, UpstreamProvider } from './directory.ts';

/** Without Redis notices, another instance's change shows here within this time. */
const POLL_MS = 1000;
/** With Redis notices: a bound on how long a lost notice can leave this instance behind. */
const NOTICED_MS = 60_000;
/** The one entry: the whole list (a handful of providers). */
const ALL = 'all';

interface WarnLogger {
  warn(obj: object, msg: string): void;
}

/** The channel on which changes to upstream providers are announced to every instance. */
export function upstreamChangesChannel(redisPrefix: string): string {
  return `${redisPrefix}upstream:changed`;
}

export interface UpstreamProviderListDeps {
  readonly directory: UpstreamDirectory;
  readonly redis: Redis | undefined;
  readonly redisPrefix: string;
  readonly logger: WarnLogger;
  /**
   * The instance's one subscriber connection (src/cache/change-subscriber.ts): with it, the other
   * instances' changes are listened to; without (one-shot processes, CLI commands), changes are
   * announced and none listened to.
   */
  readonly subscriber?: ChangeSubscriber | undefined;
  readonly now?: () => number;
}

export interface UpstreamProviderList {
  /** The directory, whose provider writes drop this instance's list and announce the change to the others. */
  readonly directory: UpstreamDirectory;
  /** Every provider, from this instance's copy (the sign-in page's buttons, home-domain routing). Do not modify. */
  list(): Promise<readonly UpstreamProvider[]>;
  close(): Promise<void>;
}

/**
 * The sign-in page shows the upstream providers' buttons on every render, and a password POST
 * whose login is an email looks for a provider that owns the domain: without this, one MongoDB
 * read each. The list changes when an operator changes a provider (admin API, console, CLI,
 * Keycloak import — all through the directory returned here), so a write drops this instance's
 * copy and announces the change over Redis; every other instance drops its copy and reads the
 * new list with its next page. Without Redis (or if a notice is lost) a copy lives at most
 * POLL_MS (NOTICED_MS with notices). A read that started before a change is never kept
 * (BoundedCache). Starting an upstream sign-in reads its provider afresh, so a stale copy can at
 * worst show a button whose provider then refuses.
 */
export async function openUpstreamProviderList(deps: UpstreamProviderListDeps): Promise<UpstreamProviderList> {
  const { directory: source, redis, redisPrefix, logger, subscriber } = deps;
  const channel = redis === undefined ? undefined : createChangeChannel({ redis, channel: upstreamChangesChannel(redisPrefix), logger, subscriber });
  const noticed = subscriber !== undefined && channel !== undefined;
  const cache = createBoundedCache<UpstreamProvider[]>({
    load: () => source.list(),
    ttlMs: noticed ? NOTICED_MS : POLL_MS,
    maxEntries: 1,
    cacheMisses: false,
    ...(deps.now === undefined ? {} : { now: deps.now }),
  });
  const drop = () => cache.invalidate(ALL);
  const subscription = noticed ? await channel.subscribe(drop, drop) : undefined;

  /** Announced whatever the outcome: a write that failed half-way may still have changed something. */
  async function announcing<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      drop();
      await channel?.publish(ALL);
    }
  }

  const directory: UpstreamDirectory = {
    ...source,
    create: (settings, secrets, mark) => announcing(() => source.create(settings, secrets, mark)),
    update: (alias, settings, secrets, mark) => announcing(() => source.update(alias, settings, secrets, mark)),
    remove: (alias) => announcing(() => source.remove(alias)),
    restore: (provider) => announcing(() => source.restore(provider)),
  };

  return {
    directory,
    list: async () => (await cache.get(ALL)) ?? [],
    async close() {
      await subscription?.close();
    },
  };
}
