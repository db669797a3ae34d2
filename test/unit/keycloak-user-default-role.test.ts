import { expect } from 'chai';
import { planKeycloakImport } from '../../src/keycloak/realm-import.ts';

/**
 * Keycloak 26 maps the realm's default role to a user when it creates one (registration, the admin
 * API, a broker: addUser with addDefaultRoles), as a role mapping an administrator may remove; its
 * export lists the mapping in the user's `realmRoles`. Its own import of that file creates each user
 * with addUser(…, false, false) — no default roles — and grants only the mappings listed
 * (DefaultExportImportManager.createUser). So an imported user has the default role's roles only
 * where the export maps it: directly, through a group, or inside a composite.
 */
describe("Keycloak import: a user's default role is the one its export maps (as Keycloak's own import)", () => {
  const realm = {
    realm: 'dfl',
    enabled: true,
    defaultRole: { name: 'default-roles-dfl', composite: true },
    roles: {
      realm: [
        { name: 'default-roles-dfl', composite: true, composites: { realm: ['offline_access', 'member'] } },
        { name: 'member' },
        { name: 'offline_access' },
        { name: 'reader' },
        { name: 'bundle', composite: true, composites: { realm: ['default-roles-dfl'] } },
      ],
    },
    groups: [{ name: 'crew', path: '/crew', realmRoles: ['default-roles-dfl'] }],
    users: [
      { id: 'u-1', username: 'mapped', enabled: true, realmRoles: ['default-roles-dfl', 'reader'] },
      { id: 'u-2', username: 'stripped', enabled: true, realmRoles: ['reader'] },
      { id: 'u-3', username: 'grouped', enabled: true, groups: ['/crew'] },
      { id: 'u-4', username: 'bundled', enabled: true, realmRoles: ['bundle'] },
      { id: 'u-5', username: 'bare', enabled: true },
    ],
  };
  const plan = planKeycloakImport(realm, new Date('2026-01-01T00:00:00Z'));
  const rolesOf = (username: string) => plan.users.find((one) => one.user.username === username)?.user.roles;

  it("a user whose export maps the default role gets its roles (Keycloak's mapping for a user it created)", () => {
    expect(rolesOf('mapped')).to.deep.equal(['member', 'reader']);
  });

  it('a user whose default role mapping was removed in Keycloak does not get them', () => {
    expect(rolesOf('stripped')).to.deep.equal(['reader']);
    expect(rolesOf('bare')).to.deep.equal([]);
  });

  it('the default role given through a group or a composite still gives its roles', () => {
    expect(rolesOf('grouped')).to.deep.equal(['member']);
    expect(rolesOf('bundled')).to.deep.equal(['bundle', 'member']);
  });

  it('users Gatehouse creates later still get its roles: default_roles', () => {
    expect(plan.settings.settings.find((one) => one.setting === 'default_roles')?.value).to.deep.equal(['member']);
  });
});
