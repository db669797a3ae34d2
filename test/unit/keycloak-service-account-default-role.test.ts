import { expect } from 'chai';
import { planKeycloakImport } from '../../src/keycloak/realm-import.ts';

/**
 * Keycloak 26 maps the realm's default role to a client's service-account user when it creates it
 * (ClientManager.enableServiceAccount → addUser(realm, username): addDefaultRoles), as a role mapping
 * an administrator may remove; its export lists the mapping in the account's `realmRoles`, and
 * Keycloak's own import of that file grants only what is listed (RepresentationToModel.createUser:
 * addUser(…, false, false)). So the service account's roles are what the export maps: the default
 * role's roles when it lists the default role, none of them when it was taken away.
 */
describe("Keycloak import: a service account's default role is the one its export maps", () => {
  const realm = {
    realm: 'svc',
    enabled: true,
    defaultRole: { name: 'default-roles-svc', composite: true },
    roles: { realm: [{ name: 'default-roles-svc', composite: true, composites: { realm: ['offline_access', 'member'] } }, { name: 'member' }, { name: 'offline_access' }, { name: 'reader' }] },
    clients: ['kept', 'stripped'].map((id) => ({ clientId: id, enabled: true, publicClient: false, secret: `${id}-secret-0123456789abcdef`, serviceAccountsEnabled: true, standardFlowEnabled: false })),
    users: [
      { id: 'sa-1', username: 'service-account-kept', enabled: true, serviceAccountClientId: 'kept', realmRoles: ['default-roles-svc', 'reader'] },
      { id: 'sa-2', username: 'service-account-stripped', enabled: true, serviceAccountClientId: 'stripped', realmRoles: ['reader'] },
      { id: 'u-1', username: 'ulla', enabled: true, realmRoles: ['default-roles-svc'] },
    ],
  };
  const plan = planKeycloakImport(realm, new Date('2026-01-01T00:00:00Z'));
  const rolesOf = (clientId: string) => plan.serviceAccounts.find((account) => account.clientId === clientId)?.roles;

  it("a service account mapped to the default role gets its roles (Keycloak's default for a new one)", () => {
    expect(rolesOf('kept')).to.deep.equal(['member', 'reader']);
  });

  it('a service account whose default role mapping was removed in Keycloak does not get them', () => {
    expect(rolesOf('stripped')).to.deep.equal(['reader']);
  });

  it("a user's roles are unchanged: the default role's roles", () => {
    expect(plan.users.find((one) => one.user.username === 'ulla')?.user.roles).to.deep.equal(['member']);
  });
});
