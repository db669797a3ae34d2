import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { BoundedCache } from '../cache/bounded-cache.ts';
import type { ClientRepository, RegisteredSave } from './repository.ts';

/** A client dynamic registration wrote (RFC 7591 POST or RFC 7592 PUT). */
export interface RegisteredClientWrite extends RegisteredSave {
  readonly clientId: string;
}

/** What else happens when a client registers, changes or deletes itself (the admin API's side effects, audit). */
export interface RegisteredClientHooks {
  readonly saved?: ((write: RegisteredClientWrite) => Promise<unknown>) | undefined;
  readonly deleted?: ((clientId: string) => Promise<unknown>) | undefined;
}

/**
 * The Client model's adapter as it is: `find` answers a client the clients cache holds at once,
 * without a promise, and only a miss with one. The adapter factory hands that on
 * (src/storage/oidc/adapter-factory.ts `guardRead`) where the library's `Adapter` type names a
 * promise: every caller of a `find` awaits it (oidc-provider's lib/models/*.js, Gatehouse's own
 * wrappers), so a plain value reads the same to them.
 */
export interface ClientAdapter extends Omit<Adapter, 'find'> {
  find(clientId: string): AdapterPayload | undefined | Promise<AdapterPayload | undefined>;
}

/**
 * oidc-provider's Client model backed by Gatehouse's clients collection. Clients are managed
 * through the repository (admin API, CLI); the provider writes only for dynamic registration
 * (RFC 7591/7592), and that goes through the repository too, which keeps the secret sealed
 * and the operator-only fields out of the client's reach. Every registration write passes here,
 * also one whose response then fails (a registration access token not saved): the hooks run here
 * rather than on the library's `registration_*.success` events.
 */
export function clientProviderAdapter(repository: ClientRepository, cache: BoundedCache<AdapterPayload>, hooks: RegisteredClientHooks = {}): ClientAdapter {
  const readOnly = async (): Promise<never> => {
    throw new Error('clients are not single-use tokens');
  };
  return {
    find: (clientId) => cache.read(clientId),
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    upsert: async (clientId, payload) => {
      const saved = await repository.saveRegistered(clientId, payload);
      cache.invalidate(clientId);
      if (saved !== undefined) await hooks.saved?.({ clientId, ...saved });
    },
    consume: readOnly,
    // RFC 7592 DELETE: what an operator's deletion does besides — its grants and tokens revoked,
    // users' consents removed (a client made again under the same id is another application,
    // nobody consented to it), audited.
    destroy: async (clientId) => {
      await repository.delete(clientId);
      await hooks.deleted?.(clientId);
    },
    revokeByGrantId: async () => {},
  };
}
