export interface BoundedCacheOptions<T> {
  readonly load: (id: string) => Promise<T | undefined>;
  /** How long an entry may be served without asking the database again; 0 disables caching. */
  readonly ttlMs: number;
  /** Bound on entries; the oldest is dropped first. */
  readonly maxEntries: number;
  /**
   * Whether an `undefined` load result is kept too. Clients: yes, so probing unknown ids costs
   * no database reads. Accounts: no, so a miss never hides a user.
   */
  readonly cacheMisses: boolean;
  readonly now?: () => number;
}

export interface BoundedCache<T> {
  get(id: string): Promise<T | undefined>;
  /** Drops one entry; the next get reads the database. */
  invalidate(id: string): void;
  clear(): void;
}

interface Entry<T> {
  readonly value: T | undefined;
  readonly expiresAt: number;
}

/**
 * A short in-process cache of records (clients, account profiles). Changes reach it by invalidation (Redis pub/sub) or,
 * without Redis, by expiry after `ttlMs`. A load that started before an invalidation is not
 * stored, so a stale read cannot outlive the change that invalidated it.
 */
export function createBoundedCache<T>({ load, ttlMs, maxEntries, cacheMisses, now = Date.now }: BoundedCacheOptions<T>): BoundedCache<T> {
  const entries = new Map<string, Entry<T>>();
  const loading = new Map<string, Promise<T | undefined>>();
  let generation = 0;

  function remember(id: string, value: T | undefined): void {
    entries.delete(id);
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done !== true) entries.delete(oldest.value);
    }
    entries.set(id, { value, expiresAt: now() + ttlMs });
  }

  return {
    async get(id) {
      const entry = entries.get(id);
      if (entry !== undefined && entry.expiresAt > now()) return entry.value;
      if (ttlMs <= 0) return load(id);
      let pending = loading.get(id);
      if (pending === undefined) {
        const started = generation;
        pending = load(id)
          .then((value) => {
            if (generation === started && (value !== undefined || cacheMisses)) remember(id, value);
            return value;
          })
          .finally(() => loading.delete(id));
        loading.set(id, pending);
      }
      return pending;
    },
    invalidate(id) {
      generation += 1;
      entries.delete(id);
      loading.delete(id);
    },
    clear() {
      generation += 1;
      entries.clear();
      loading.clear();
    },
  };
}
