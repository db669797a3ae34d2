import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { ClientCache } from './cache.ts';
import type { ClientRepository } from './repository.ts';

/**
 * oidc-provider's Client model backed by Gatehouse's clients collection. Clients are managed
 * through the repository (admin API, CLI); the provider only reads them.
 */
export function clientProviderAdapter(repository: ClientRepository, cache: ClientCache<AdapterPayload>): Adapter {
  const readOnly = async (): Promise<never> => {
    throw new Error('clients are managed through the Gatehouse clients repository, not by oidc-provider');
  };
  return {
    find: (clientId) => cache.get(clientId),
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    upsert: readOnly,
    consume: readOnly,
    destroy: async (clientId) => {
      await repository.delete(clientId);
    },
    revokeByGrantId: async () => {},
  };
}
