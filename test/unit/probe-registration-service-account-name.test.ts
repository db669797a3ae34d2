import { expect } from 'chai';
import { usernameCandidates } from '../../src/accounts/self-registration.ts';

/**
 * Probe (probe24): Keycloak-shaped client_credentials tokens name their client's service account
 * `service-account-<client id>` (README: apps tell a service token by it). A self-registration takes
 * its username from the address's local part: service-account-billing-worker@example.org became the
 * user `service-account-billing-worker`, whose tokens then name the service (a just-in-time upstream
 * account gets `user-` in front since probe24).
 */
describe('probe: a self-registered username never names a service account', () => {
  it('no candidate starts with service-account- (any case or width)', () => {
    for (const email of ['service-account-billing-worker@example.org', 'Service-Account-x@example.org', 'ｓｅｒｖｉｃｅ-account-y@example.org']) {
      for (const candidate of usernameCandidates(email)) expect(candidate.normalize('NFKC').toLowerCase(), email).not.to.match(/^service-account-/);
    }
  });
});
