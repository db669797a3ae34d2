import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { BoundedCache } from '../cache/bounded-cache.ts';
import type { ClientRepository } from './repository.ts';

/**
 * oidc-provider's Client model backed by Gatehouse's clients collection. Clients are managed
 * through the repository (admin API, CLI); the provider writes only for dynamic registration
 * (RFC 7591/7592), and that goes through the repository too, which keeps the secret sealed
 * and the operator-only fields out of the client's reach.
 */
export function clientProviderAdapter(repository: ClientRepository, cache: BoundedCache<AdapterPayload>, deleted: (clientId: string) => Promise<unknown> = async () => {}): Adapter {
  const readOnly = async (): Promise<never> => {
    throw new Error('clients are not single-use tokens');
  };
  return {
    find: (clientId) => cache.get(clientId),
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    upsert: async (clientId, payload) => {
      await repository.saveRegistered(clientId, payload);
      cache.invalidate(clientId);
    },
    consume: readOnly,
    // RFC 7592 DELETE: a client made again under the same id is another application, nobody consented to it.
    destroy: async (clientId) => {
      await repository.delete(clientId);
      await deleted(clientId);
    },
    revokeByGrantId: async () => {},
  };
}
