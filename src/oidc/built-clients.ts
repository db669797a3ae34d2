import type Provider from 'oidc-provider';

type ClientModel = Provider['Client'];
type BuiltClient = NonNullable<Awaited<ReturnType<ClientModel['find']>>>;

/**
 * The client record the clients cache holds for an id and would hand the Client model's adapter
 * now (src/oidc/storage.ts `heldClientRecord`: the cache's `peek`), without loading it; undefined
 * when it holds none (not cached, expired, dropped by a change, or the cache is off).
 */
export type HeldClientRecord = (clientId: string) => object | undefined;

/**
 * oidc-provider's `Client.find` (lib/models/client.js) reads a client that is not static from
 * the adapter and then looks up the Client it built for that record by a SHA-256 of the record's
 * JSON — on every call, i.e. on every token, userinfo and introspection request (≈ 5 µs of a
 * userinfo request, docs/PERFORMANCE.md, perf22u). The clients cache hands the adapter the same
 * record object until the client changes (a change drops the entry on this instance and, by the
 * clients' change notice over Redis, on every other one; without Redis the entry expires), so
 * the Client the library built for a record can be kept by the record object itself: a WeakMap
 * from record to Client. A record the cache holds is looked up there first; only a record seen
 * for the first time (or none held) goes the library's way, and what the library finds for it is
 * kept. A changed, deleted or disabled client is thus seen exactly as soon as the clients cache
 * sees it — a new record object (or none) misses the map — and a dropped record takes its Client
 * with it. The library's answer for the record is the same Client object anyway (its own cache of
 * built clients is keyed by the record's content); static clients are found before the adapter
 * there, and a record's entry only ever holds what the library returned for that id.
 *
 * Each Provider has its own Client class (a rebuild for new keys or claim scopes makes a new
 * one), so the map lives with the class it wraps. Callers `await` `Client.find` (the library's
 * actions, src/oidc/introspection-policy.ts, src/interactions/*): a hit answers with a resolved
 * promise, as the library's async function did.
 */
export function reuseBuiltClients(provider: Provider, heldRecord: HeldClientRecord): void {
  const Client: ClientModel = provider.Client;
  const libraryFind = Client.find;
  const built = new WeakMap<object, BuiltClient>();
  const find = (id: string): Promise<BuiltClient | undefined> => {
    const record = typeof id === 'string' && id.length > 0 ? heldRecord(id) : undefined;
    if (record === undefined) return libraryFind.call(Client, id);
    const client = built.get(record);
    if (client !== undefined) return Promise.resolve(client);
    // The library reads the adapter at once, in this call: the record it builds from is `record`.
    return libraryFind.call(Client, id).then((found) => {
      if (found !== undefined) built.set(record, found);
      return found;
    });
  };
  Object.defineProperty(Client, 'find', { value: find, configurable: true, writable: true });
}
