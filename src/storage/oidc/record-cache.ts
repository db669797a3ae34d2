import type { Adapter, AdapterPayload } from 'oidc-provider';
import { createBoundedCache, type BoundedCache } from '../../cache/bounded-cache.ts';
import { copyJson } from '../../cache/json-copy.ts';
import { JWT_REVOCATION_KIND } from './models.ts';
import { createdByUpsert } from './upsert-outcome.ts';

/**
 * The records read on every token use: the session-binding check loads the Session by uid
 * (oidc-provider lib/models/token_helpers.js); userinfo, introspection and refresh load the
 * Grant by id; userinfo and introspection load the access token itself (AccessToken for user
 * tokens, ClientCredentials for machine tokens and derived JWT records, src/oidc/jwt-records.ts).
 */
export const CACHED_MODELS: ReadonlySet<string> = new Set(['Session', 'Grant', 'AccessToken', 'ClientCredentials']);

/**
 * Token models: their ids are random (or an HMAC of a random `jti`), never shared between the
 * two, so an id held by one of them is known to be absent from the other (introspection looks a
 * token up in both at once). A token is cached when it is read, not when it is issued: most
 * issued tokens are never read at this instance.
 */
const TOKEN_MODELS: ReadonlySet<string> = new Set(['AccessToken', 'ClientCredentials']);

/**
 * The one model whose misses are cached too: a client_credentials JWT's introspection asks for
 * its revocation tombstone (src/oidc/jwt-records.ts) every time, and the answer is almost always
 * "none". Safe because nothing that can be asked for before it exists is created unannounced: a
 * tombstone's creation is announced (JWT_REVOCATION_KIND), an opaque token's id is unknown to
 * anyone until it is issued, and an instance materialises a derived record itself (its own write
 * drops its own miss) before it reads it.
 */
const MISSES_CACHED: ReadonlySet<string> = new Set(['ClientCredentials']);

const ENTRIES_PER_MODEL = 10_000;
/**
 * Bytes of heap per model: each entry's payload (its JSON's length × OBJECT_HEAP_FACTOR) plus the
 * entry's bookkeeping. A record reachable by two keys (a session by id and by uid) counts twice.
 */
const BYTES_PER_MODEL = 8 * 1024 * 1024;
const ENTRY_OVERHEAD_BYTES = 160;
/** Heap of a parsed payload per byte of its JSON (measured on access-token records: ≈ 617 against 473 bytes). */
const OBJECT_HEAP_FACTOR = 1.3;

export interface RecordCacheDeps {
  /** How long a record may be served from memory; 0 = every read goes to the store (writes are still announced). */
  readonly ttlSeconds: number;
  readonly maxEntries?: number;
  readonly maxBytes?: number;
  /** Tells the other instances which records changed (Redis pub/sub); absent without Redis. */
  readonly announce?: ((notice: string) => Promise<void>) | undefined;
  readonly now?: () => number;
}

export interface RecordCache {
  /** Reads of a cached model go through the cache; every write drops and announces the record. Other models pass through. */
  wrap(model: string, adapter: Adapter): Adapter;
  /** revokeByGrantId ran for `grantId`: its Grant and every cached token of it are dropped here and announced. */
  grantRevoked(grantId: string): Promise<void>;
  /**
   * Runs a change of the grant `grantId` — revokeByGrantId's pass, its removal with the grants
   * that depend on it — as a write of it: when it ends, its Grant and every cached token of it
   * are dropped here and announced; once for changes that run at once (the library's revoke
   * revokes the tokens and destroys the grant together), by whichever ends last (see writing()).
   */
  changingGrant<T>(grantId: string, change: () => Promise<T>): Promise<T>;
  /** The client's client_credentials tokens were deleted in the stores: every cached one is dropped here and announced. */
  clientTokensRevoked(clientId: string): Promise<void>;
  /** Applies a notice announced by another instance. */
  receive(notice: string): void;
  /** Forgets everything and serves from memory again (the change subscription is back: notices may have been missed meanwhile). */
  clear(): void;
  /**
   * Forgets everything and, until clear(), serves nothing from memory: every read goes to the
   * store. For the time the change subscription is lost, when notices cannot reach this instance.
   */
  suspend(): void;
}

interface Notice {
  readonly model: string;
  readonly keys: readonly string[];
}

const byId = (id: string) => `id:${id}`;
const byUid = (uid: string) => `uid:${uid}`;
/** Every cached token of a grant carries this alias: one notice about the grant drops them all. */
const byGrant = (grantId: string) => `grant:${grantId}`;
/** Every cached client_credentials token carries its client's: revoking a client's tokens drops them all. */
const byClient = (clientId: string) => `client:${clientId}`;

/**
 * The keys a stored payload is reachable by: its id, and for a session its uid; for a token also
 * its grant and (machine tokens) its client, which notices name to drop all of them at once.
 */
function keysOf(payload: AdapterPayload): string[] {
  const keys: string[] = [];
  if (typeof payload.jti === 'string') keys.push(byId(payload.jti));
  if (typeof payload.uid === 'string') keys.push(byUid(payload.uid));
  if (payload.kind === 'AccessToken' || payload.kind === 'ClientCredentials') {
    if (typeof payload.grantId === 'string') keys.push(byGrant(payload.grantId));
    if (payload.kind === 'ClientCredentials' && typeof payload.clientId === 'string') keys.push(byClient(payload.clientId));
  }
  return keys;
}

function parse(notice: string): Notice | undefined {
  try {
    const parsed = JSON.parse(notice) as Partial<Notice>;
    if (typeof parsed.model !== 'string' || !Array.isArray(parsed.keys)) return undefined;
    return { model: parsed.model, keys: parsed.keys.filter((key): key is string => typeof key === 'string') };
  } catch {
    return undefined;
  }
}

/**
 * What an entry holds: the payload as it reads back from JSON (parsed once, when cached; never
 * handed out), its JSON's length for the byte bound, and the keys it is reachable by. Each
 * reader gets its own deep copy, since oidc-provider builds model instances that share the
 * payload's nested objects and mutates them; copying the parsed payload is ≈ 4× cheaper than
 * parsing its JSON per read, and the object graph takes ≈ 1.3× the heap of the JSON string.
 */
interface CachedRecord {
  readonly payload: AdapterPayload;
  readonly jsonBytes: number;
  readonly keys: readonly string[];
  readonly expiresAtMs: number | undefined;
}

function toRecord(payload: AdapterPayload | undefined | void): CachedRecord | undefined {
  if (payload === undefined || payload === null) return undefined;
  const json = JSON.stringify(payload);
  return { payload: JSON.parse(json) as AdapterPayload, jsonBytes: json.length, keys: keysOf(payload), expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined };
}

const fromRecord = (record: CachedRecord | undefined) => (record === undefined ? undefined : copyJson(record.payload));

/**
 * A short read-through cache for Session (by id and by uid), Grant (by id) and the access-token
 * records (AccessToken, ClientCredentials: by id), in front of the routing adapter. Every write
 * through the adapter invalidates after the store answered (even when it failed) and announces
 * the record's keys, so other instances drop it at once; a revocation by grant is announced as a
 * change of the grant, which drops its tokens too, and a client's tokens revoked in bulk as a
 * notice naming the client. Without Redis only the TTL bounds what another instance may still
 * serve (docs/STORAGE.md).
 */
export function createRecordCache({ ttlSeconds, maxEntries = ENTRIES_PER_MODEL, maxBytes = BYTES_PER_MODEL, announce, now = Date.now }: RecordCacheDeps): RecordCache {
  const reading = ttlSeconds > 0;
  /** False while the change subscription is lost (suspend() until clear()): reads pass through. */
  let serving = true;
  /**
   * Counts suspend() and clear(): notices may have been missed across either, so a write that
   * spanned one cannot know whether another instance's write overlapped it (see writing()).
   */
  let epoch = 0;
  const caches = new Map<string, { cache: BoundedCache<CachedRecord>; adapter: Adapter | undefined }>();
  for (const model of CACHED_MODELS) {
    const slot: { cache: BoundedCache<CachedRecord>; adapter: Adapter | undefined } = {
      adapter: undefined,
      cache: createBoundedCache<CachedRecord>({
        load: async (key) => {
          const source = slot.adapter;
          if (source === undefined) return undefined;
          return toRecord(key.startsWith('uid:') ? await source.findByUid(key.slice(4)) : await source.find(key.slice(3)));
        },
        ttlMs: ttlSeconds * 1000,
        maxEntries,
        maxBytes,
        sizeOf: (record) => Math.ceil(record.jsonBytes * OBJECT_HEAP_FACTOR) + ENTRY_OVERHEAD_BYTES,
        cacheMisses: MISSES_CACHED.has(model),
        aliases: (record) => record.keys,
        validUntil: (record) => record.expiresAtMs,
        now,
      }),
    };
    caches.set(model, slot);
  }

  function drop({ model, keys }: Notice): void {
    const slot = caches.get(model);
    for (const key of keys) slot?.cache.invalidate(key);
    // Any change to a grant (revoked, destroyed, rewritten) drops its tokens too: a revocation by
    // grant is announced as a Grant notice (grantRevoked), whichever process made it.
    if (model !== 'Grant') return;
    for (const key of keys) {
      if (!key.startsWith('id:')) continue;
      for (const tokens of TOKEN_MODELS) caches.get(tokens)?.cache.invalidate(byGrant(key.slice(3)));
    }
  }

  async function changed(notice: Notice): Promise<void> {
    drop(notice);
    await announce?.(JSON.stringify(notice));
  }

  /**
   * Writes in flight per `model|key`: a write that overlapped another of the same record never
   * fills the cache; one that owes a notice when another write of the same record is still in
   * flight leaves the notice to it (`owesNotice`).
   */
  interface Write {
    overlapped: boolean;
    owesNotice: boolean;
    readonly keys: readonly string[];
  }
  const writes = new Map<string, Set<Write>>();
  const writeKey = (model: string, key: string) => `${model}|${key}`;
  function overlap(model: string, keys: readonly string[]): void {
    for (const key of keys) for (const write of writes.get(writeKey(model, key)) ?? []) write.overlapped = true;
  }

  /**
   * Runs a write, then drops its keys here whatever the outcome (a failed write may still have
   * landed) and announces them to the other instances — except when the write created the
   * record: no instance can hold a record that did not exist. A successful upsert that no other
   * write (here, or announced by another instance) overlapped leaves its payload in the cache:
   * the read that follows a write (the code exchange after a sign-in) needs no round trip. A
   * write that spanned a suspend() or clear() fills nothing: the notice of an overlapping write
   * may have been among those missed then. Two writes of one record at once (a grant's tokens
   * revoked while the grant is destroyed, the library's revoke) send one notice: the first to end
   * hands its notice on to the other, which sends it when it ends — after both, so no instance
   * can have read back in between what either removed.
   */
  async function writing<T>(model: string, keys: readonly string[], write: () => Promise<T>, written?: CachedRecord, announceCreation = false): Promise<T> {
    const self: Write = { overlapped: false, owesNotice: false, keys };
    const startedIn = epoch;
    overlap(model, keys);
    for (const key of keys) {
      const id = writeKey(model, key);
      const set = writes.get(id) ?? new Set();
      set.add(self);
      writes.set(id, set);
    }
    let outcome: { ok: true; value: T } | { ok: false } = { ok: false };
    try {
      outcome = { ok: true, value: await write() };
      return outcome.value;
    } finally {
      for (const key of keys) {
        const id = writeKey(model, key);
        const set = writes.get(id);
        set?.delete(self);
        if (set?.size === 0) writes.delete(id);
      }
      drop({ model, keys });
      if (outcome.ok && written !== undefined && !self.overlapped && epoch === startedIn && reading && serving) fill(model, written);
      if (!outcome.ok || !createdByUpsert(outcome.value) || announceCreation || self.owesNotice) {
        const heir = inFlightCovering(model, keys);
        if (heir !== undefined) heir.owesNotice = true;
        else await announce?.(JSON.stringify({ model, keys }));
      }
    }
  }

  /** A write of the same record still in flight whose notice names every one of `keys`. */
  function inFlightCovering(model: string, keys: readonly string[]): Write | undefined {
    const first = keys[0];
    if (first === undefined) return undefined;
    for (const write of writes.get(writeKey(model, first)) ?? []) {
      if (keys.every((key) => write.keys.includes(key))) return write;
    }
    return undefined;
  }

  function fill(model: string, record: CachedRecord): void {
    const cache = caches.get(model)?.cache;
    for (const key of record.keys) cache?.set(key, record);
  }

  return {
    wrap(model, adapter) {
      const slot = caches.get(model);
      if (slot === undefined) return adapter;
      slot.adapter = adapter;
      const { cache } = slot;
      const token = TOKEN_MODELS.has(model);
      // The other token model's cache (see TOKEN_MODELS): an id it holds is not one of this model's.
      const sibling = token ? caches.get(model === 'AccessToken' ? 'ClientCredentials' : 'AccessToken')?.cache : undefined;
      const fill = !token;
      // A record held in memory is copied out at once (no async frame); only a miss waits for the cache's load.
      const read = (key: string): Promise<AdapterPayload | undefined> => {
        const held = cache.peek(key);
        return held !== undefined ? Promise.resolve(fromRecord(held)) : cache.get(key).then(fromRecord);
      };
      const findToken = (id: string): Promise<AdapterPayload | undefined> | ReturnType<Adapter['find']> => {
        if (!serving) return adapter.find(id);
        const key = byId(id);
        return sibling?.peek(key) ? Promise.resolve(undefined) : read(key);
      };
      return {
        find: !reading ? (id) => adapter.find(id) : token ? findToken : (id) => (serving ? read(byId(id)) : adapter.find(id)),
        findByUid: reading ? (uid) => (serving ? read(byUid(uid)) : adapter.findByUid(uid)) : (uid) => adapter.findByUid(uid),
        findByUserCode: (userCode) => adapter.findByUserCode(userCode),
        upsert: (id, payload, expiresIn) => {
          const keys = [byId(id)];
          if (typeof payload.uid === 'string') keys.push(byUid(payload.uid));
          // Serialised before the write: what is cached is exactly what was stored.
          // Other instances may hold a tombstone's absence (MISSES_CACHED): its creation is news to them.
          const news = payload.kind === JWT_REVOCATION_KIND;
          return writing(model, keys, () => adapter.upsert(id, payload, expiresIn), reading && fill ? toRecord(payload) : undefined, news);
        },
        consume: (id) => writing(model, [byId(id)], () => adapter.consume(id)),
        destroy: (id) => writing(model, [byId(id)], () => adapter.destroy(id)),
        revokeByGrantId: (grantId) => adapter.revokeByGrantId(grantId),
      };
    },
    grantRevoked: (grantId) => changed({ model: 'Grant', keys: [byId(grantId)] }),
    changingGrant: (grantId, change) => writing('Grant', [byId(grantId)], change),
    clientTokensRevoked: (clientId) => changed({ model: 'ClientCredentials', keys: [byClient(clientId)] }),
    receive(notice) {
      const parsed = parse(notice);
      if (parsed === undefined) return;
      overlap(parsed.model, parsed.keys);
      drop(parsed);
    },
    clear() {
      epoch += 1;
      for (const { cache } of caches.values()) cache.clear();
      serving = true;
    },
    suspend() {
      epoch += 1;
      serving = false;
      for (const { cache } of caches.values()) cache.clear();
    },
  };
}
