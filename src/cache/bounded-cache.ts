export interface BoundedCacheOptions<T> {
  readonly load: (key: string) => Promise<T | undefined>;
  /** How long an entry may be served without asking the database again; 0 disables caching. */
  readonly ttlMs: number;
  /** Bound on entries; the oldest is dropped first. */
  readonly maxEntries: number;
  /**
   * Bound on the bytes the entries hold, as `sizeOf` estimates them; the oldest is dropped first.
   * Entries alone do not bound memory when values vary in size (a session with many grants).
   */
  readonly maxBytes?: number;
  /** Estimated bytes of a value (with `maxBytes`); a miss counts 0. */
  readonly sizeOf?: (value: T) => number;
  /**
   * Whether an `undefined` load result is kept too. Clients: yes, so probing unknown ids costs
   * no database reads. Accounts and oidc records: no, so a miss never hides a record.
   */
  readonly cacheMisses: boolean;
  /**
   * The other keys a loaded value is known by (a session: its id and its uid). Invalidating any
   * of them drops this entry too, so a notice that names only one key reaches every copy.
   */
  readonly aliases?: (value: T) => readonly string[];
  /** When the value itself stops being valid (epoch ms); its entry never outlives that. */
  readonly validUntil?: (value: T) => number | undefined;
  readonly now?: () => number;
}

export interface BoundedCache<T> {
  get(key: string): Promise<T | undefined>;
  /**
   * `get` without a promise on a hit: the value held for `key` (a kept miss: `undefined`) at once
   * while it is valid, and only otherwise a promise of the load's result, as `get` gives. For
   * callers that `await` what they get (a hit then costs no promise, async frame or microtask of
   * the cache's own: userinfo and every token request look up their client and user this way).
   */
  read(key: string): T | undefined | Promise<T | undefined>;
  /** The value held for `key` if it is still valid, without loading it. */
  peek(key: string): T | undefined;
  /** Drops the entry for `key` and every entry linked to it by an alias; the next get reads the database. */
  invalidate(key: string): void;
  /**
   * Stores a value the caller knows to be current (it has just written it), as a load would.
   * The caller must invalidate the key first and make sure no other write to it overlapped.
   */
  set(key: string, value: T): void;
  /**
   * A read the caller makes outside the cache (a sign-in reads the user by login) whose result
   * may be kept as a load's would: `store` keeps it unless the key — or an alias — was
   * invalidated after `begin`, exactly as for a load that started then. Call `end` in a
   * `finally` whatever happened (store ends it too).
   */
  begin(): ReadAhead<T>;
  /** Drops every expired entry now (a timer does it on its own while the cache holds entries). */
  dropExpired(): void;
  /** Entries held, expired or not. */
  size(): number;
  /** Estimated bytes held (0 without `sizeOf`). */
  bytes(): number;
  clear(): void;
}

export interface ReadAhead<T> {
  store(key: string, value: T): void;
  end(): void;
}

interface Entry<T> {
  readonly value: T | undefined;
  readonly expiresAt: number;
  readonly aliases: readonly string[];
  readonly bytes: number;
}

/** Beyond this many invalidations during overlapping loads, all those loads are discarded instead. */
const INVALIDATION_LOG_LIMIT = 10_000;

/**
 * A short in-process cache of records (clients, account profiles, sessions and grants). Changes
 * reach it by invalidation (Redis pub/sub) or, without Redis, by expiry after `ttlMs`.
 *
 * A load that started before an invalidation of its key — or of any alias of the value it
 * returns — is not stored, so a stale read cannot outlive the change that invalidated it. This
 * is tracked per key (a log of invalidations kept only while loads are in flight), so frequent
 * writes to other records do not stop this one from being cached. Callers that arrive after an
 * invalidation never join a load that started before it.
 */
export function createBoundedCache<T>(options: BoundedCacheOptions<T>): BoundedCache<T> {
  const { load, ttlMs, maxEntries, maxBytes = Number.POSITIVE_INFINITY, sizeOf, cacheMisses, aliases: aliasesOf, validUntil, now = Date.now } = options;
  const entries = new Map<string, Entry<T>>();
  let heldBytes = 0;
  /** alias → keys of the entries that carry it. */
  const holders = new Map<string, Set<string>>();
  const loading = new Map<string, Promise<T | undefined>>();
  let sequence = 0;
  /** Loads started before this sequence are never stored (clear(), or the log overflowed). */
  let floor = 0;
  /** Loads not yet settled, including ones an invalidation detached from `loading`. */
  let inFlight = 0;
  /** key → sequence of its latest invalidation; kept only while some load is in flight. */
  const invalidatedAt = new Map<string, number>();

  function drop(key: string): void {
    const entry = entries.get(key);
    if (entry === undefined) return;
    entries.delete(key);
    heldBytes -= entry.bytes;
    for (const alias of entry.aliases) {
      const keys = holders.get(alias);
      keys?.delete(key);
      if (keys?.size === 0) holders.delete(alias);
    }
  }

  /**
   * Expired entries are dropped by a sweep that runs while the cache holds any (a timer that
   * does not keep the process alive), so memory held for a burst of traffic comes back once it
   * has passed, not only when new entries push old ones out.
   */
  let sweep: NodeJS.Timeout | undefined;
  function dropExpired(): void {
    const at = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= at) drop(key);
  }
  function sweepNow(): void {
    sweep = undefined;
    dropExpired();
    scheduleSweep();
  }
  function scheduleSweep(): void {
    if (sweep !== undefined || entries.size === 0) return;
    sweep = setTimeout(sweepNow, Math.max(ttlMs, 1000));
    sweep.unref();
  }

  function remember(key: string, value: T | undefined, aliases: readonly string[]): void {
    drop(key);
    const at = now();
    const until = value === undefined ? undefined : validUntil?.(value);
    const expiresAt = Math.min(at + ttlMs, until ?? Number.POSITIVE_INFINITY);
    if (expiresAt <= at) return;
    const bytes = value === undefined || sizeOf === undefined ? 0 : sizeOf(value);
    if (bytes > maxBytes) return;
    while (entries.size >= maxEntries || heldBytes + bytes > maxBytes) {
      const oldest = entries.keys().next();
      if (oldest.done === true) break;
      drop(oldest.value);
    }
    entries.set(key, { value, expiresAt, aliases, bytes });
    heldBytes += bytes;
    scheduleSweep();
    for (const alias of aliases) {
      let keys = holders.get(alias);
      if (keys === undefined) holders.set(alias, (keys = new Set()));
      keys.add(key);
    }
  }

  function overtaken(keys: readonly string[], started: number): boolean {
    return floor > started || keys.some((key) => (invalidatedAt.get(key) ?? 0) > started);
  }

  function settled(): void {
    inFlight -= 1;
    if (inFlight === 0) invalidatedAt.clear();
  }

  function storeIfCurrent(key: string, value: T | undefined, started: number): void {
    if (value === undefined && !cacheMisses) return;
    const aliases = value === undefined ? [] : (aliasesOf?.(value) ?? []).filter((alias) => alias !== key);
    if (!overtaken([key, ...aliases], started)) remember(key, value, aliases);
  }

  function startLoad(key: string): Promise<T | undefined> {
    const started = sequence;
    inFlight += 1;
    const pending: Promise<T | undefined> = loadNow(key)
      .then((value) => {
        storeIfCurrent(key, value, started);
        return value;
      })
      .finally(() => {
        if (loading.get(key) === pending) loading.delete(key);
        settled();
      });
    loading.set(key, pending);
    return pending;
  }

  /** The load's promise; a load that throws at once gives a rejected one (as an async function's would). */
  function loadNow(key: string): Promise<T | undefined> {
    try {
      return load(key);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  function miss(key: string): Promise<T | undefined> {
    if (ttlMs <= 0) return loadNow(key);
    return loading.get(key) ?? startLoad(key);
  }

  return {
    async get(key) {
      const entry = entries.get(key);
      if (entry !== undefined && entry.expiresAt > now()) return entry.value;
      return miss(key);
    },
    read(key) {
      const entry = entries.get(key);
      if (entry !== undefined && entry.expiresAt > now()) return entry.value;
      return miss(key);
    },
    peek(key) {
      const entry = entries.get(key);
      return entry !== undefined && entry.expiresAt > now() ? entry.value : undefined;
    },
    invalidate(key) {
      sequence += 1;
      // Links work both ways: the entries that name `key` as an alias, and the entries under
      // the aliases of `key`'s own entry (a session cached by id drops its copy by uid).
      const related = new Set([key, ...(entries.get(key)?.aliases ?? []), ...(holders.get(key) ?? [])]);
      for (const stale of related) drop(stale);
      // An in-flight load of another key may turn out to be an alias of this one; nobody
      // arriving from now on may join it (it is still not stored, see overtaken()).
      loading.clear();
      if (inFlight === 0) return;
      for (const stale of related) invalidatedAt.set(stale, sequence);
      if (invalidatedAt.size > INVALIDATION_LOG_LIMIT) {
        invalidatedAt.clear();
        floor = sequence;
      }
    },
    set(key, value) {
      if (ttlMs <= 0) return;
      remember(key, value, (aliasesOf?.(value) ?? []).filter((alias) => alias !== key));
    },
    begin() {
      const started = sequence;
      inFlight += 1;
      let open = true;
      const end = () => {
        if (!open) return;
        open = false;
        settled();
      };
      return {
        store(key, value) {
          if (open && ttlMs > 0) storeIfCurrent(key, value, started);
          end();
        },
        end,
      };
    },
    dropExpired,
    size: () => entries.size,
    bytes: () => heldBytes,
    clear() {
      sequence += 1;
      floor = sequence;
      entries.clear();
      heldBytes = 0;
      holders.clear();
      loading.clear();
      invalidatedAt.clear();
    },
  };
}
