import { randomBytes } from 'node:crypto';
import type { ApiRegistry } from '../../src/apis/registry.ts';
import type { ProviderSettings } from '../../src/oidc/configuration.ts';
import { createJwtRecords } from '../../src/oidc/jwt-records.ts';
import { memoryAdapterFactory } from './memory-adapter.ts';

/** An API registry with no APIs, for unit tests that configure resource servers themselves. */
export const NO_APIS: ApiRegistry = {
  create: () => Promise.reject(new Error('not in unit tests')),
  find: async () => undefined,
  list: async () => [],
  remove: async () => false,
  update: async () => undefined,
  setClient: async () => false,
};

/** Provider settings (all but keys) for unit tests: in-memory storage, no users, no APIs. */
export function testProviderSettings(): Omit<ProviderSettings, 'jwks' | 'cookieKeys'> {
  const adapter = memoryAdapterFactory();
  const jwtRecords = createJwtRecords({ secret: randomBytes(32).toString('base64url'), adapter });
  return {
    adapter,
    lifetimes: { accessToken: 600, authorizationCode: 60, idToken: 3600, refreshToken: 86_400, session: 86_400, deviceCode: 600, interaction: 3600 },
    requirePkce: false,
    registration: false,
    adminAudience: 'http://localhost:3000/admin/api/v1',
    https: false,
    dpopNonceSecret: randomBytes(32),
    accounts: { findActive: async () => undefined },
    apis: NO_APIS,
    jwtCustomizer: jwtRecords.customizer,
    beforeRevocation: jwtRecords.beforeRevocation,
    interactionUrl: (uid) => `/interaction/${uid}`,
  };
}
