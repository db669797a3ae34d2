import { expect } from 'chai';
import { planKeycloakImport } from '../../src/keycloak/realm-import.ts';

/**
 * A Keycloak import keeps to the admin API's rules for role names (1-128 characters, no control or
 * invisible format character) and for a client's service_account_roles (at most 100): what breaks
 * them is reported and left out, never written.
 */
describe('Keycloak import: role names and service-account roles within the admin API limits', () => {
  const long = `r${'x'.repeat(128)}`;
  const many = Array.from({ length: 101 }, (_, index) => `role-${String(index).padStart(3, '0')}`);
  const realm = {
    realm: 'limits',
    enabled: true,
    roles: {
      realm: ['member', 'admin\u200B', long, ...many].map((name) => ({ name })),
      client: { shop: [{ name: '\u202Eadmin' }, { name: 'buyer' }] },
    },
    clients: [
      { clientId: 'svc-few', enabled: true, publicClient: false, secret: 'svc-few-secret-0123456789abcdef', serviceAccountsEnabled: true, standardFlowEnabled: false },
      { clientId: 'svc-many', enabled: true, publicClient: false, secret: 'svc-many-secret-0123456789abcdef', serviceAccountsEnabled: true, standardFlowEnabled: false },
    ],
    users: [
      { id: 'u-1', username: 'uma', enabled: true, realmRoles: ['member', 'admin\u200B', long], clientRoles: { shop: ['\u202Eadmin', 'buyer'] } },
      { id: 'u-2', username: 'service-account-svc-few', enabled: true, serviceAccountClientId: 'svc-few', realmRoles: ['member', 'admin\u200B', long], clientRoles: { shop: ['\u202Eadmin', 'buyer'] } },
      { id: 'u-3', username: 'service-account-svc-many', enabled: true, serviceAccountClientId: 'svc-many', realmRoles: many },
    ],
  };
  const plan = planKeycloakImport(realm, new Date('2026-01-01T00:00:00Z'));

  it('a role name with a hidden character or over 128 characters is reported (its characters spelled out), not created, given to nobody', () => {
    const names = plan.roles.map((role) => role.name);
    expect(names).to.include.members(['member', 'shop:buyer']);
    expect(names.filter((name) => /[\p{Cc}\p{Cf}]/u.test(name) || name.length > 128)).to.deep.equal([]);
    const reported = plan.unmapped.filter((item) => item.kind === 'role').map((item) => item.name);
    expect(reported).to.include.members(['admin\\u200B', 'shop:\\u202Eadmin', long]);
    expect([...plan.users[0]!.user.roles].sort()).to.deep.equal(['member', 'shop:buyer']);
    expect(plan.serviceAccounts.find((account) => account.clientId === 'svc-few')?.roles).to.deep.equal(['member', 'shop:buyer']);
  });

  it('a service account of more than 100 roles is reported and not carried over (none rather than an arbitrary part)', () => {
    expect(plan.serviceAccounts.map((account) => account.clientId)).not.to.include('svc-many');
    const item = plan.unmapped.find((one) => one.kind === 'service account' && one.name === 'service-account-svc-many');
    expect(item?.reason).to.match(/^101 roles, more than the 100 /);
  });
});
