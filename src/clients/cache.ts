export interface ClientCacheOptions<T> {
  readonly load: (clientId: string) => Promise<T | undefined>;
  /** How long an entry may be served without asking the database again; 0 disables caching. */
  readonly ttlMs: number;
  /** Bound on entries (unknown ids are cached too, so probing cannot grow memory). */
  readonly maxEntries: number;
  readonly now?: () => number;
}

export interface ClientCache<T> {
  get(clientId: string): Promise<T | undefined>;
  /** Drops one client; the next get reads the database. */
  invalidate(clientId: string): void;
  clear(): void;
}

interface Entry<T> {
  readonly value: T | undefined;
  readonly expiresAt: number;
}

/**
 * A short in-process cache of clients. Changes reach it by invalidation (Redis pub/sub) or,
 * without Redis, by expiry after `ttlMs`. A load that started before an invalidation is not
 * stored, so a stale read cannot outlive the change that invalidated it.
 */
export function createClientCache<T>({ load, ttlMs, maxEntries, now = Date.now }: ClientCacheOptions<T>): ClientCache<T> {
  const entries = new Map<string, Entry<T>>();
  const loading = new Map<string, Promise<T | undefined>>();
  let generation = 0;

  function remember(clientId: string, value: T | undefined): void {
    entries.delete(clientId);
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done !== true) entries.delete(oldest.value);
    }
    entries.set(clientId, { value, expiresAt: now() + ttlMs });
  }

  return {
    async get(clientId) {
      const entry = entries.get(clientId);
      if (entry !== undefined && entry.expiresAt > now()) return entry.value;
      if (ttlMs <= 0) return load(clientId);
      let pending = loading.get(clientId);
      if (pending === undefined) {
        const started = generation;
        pending = load(clientId)
          .then((value) => {
            if (generation === started) remember(clientId, value);
            return value;
          })
          .finally(() => loading.delete(clientId));
        loading.set(clientId, pending);
      }
      return pending;
    },
    invalidate(clientId) {
      generation += 1;
      entries.delete(clientId);
      loading.delete(clientId);
    },
    clear() {
      generation += 1;
      entries.clear();
      loading.clear();
    },
  };
}
