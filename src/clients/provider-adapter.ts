import type { AdapterPayload } from 'oidc-provider';
import type { BoundedCache } from '../cache/bounded-cache.ts';
import type { ReadAtOnceAdapter } from '../storage/oidc/adapter-factory.ts';
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

/** The Client model's adapter: a client the clients cache holds is found at once, without a promise. */
export type ClientAdapter = ReadAtOnceAdapter;

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
