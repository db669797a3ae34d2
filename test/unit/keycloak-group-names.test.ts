import { expect } from 'chai';
import { planKeycloakImport } from '../../src/keycloak/realm-import.ts';

/**
 * A Keycloak group's path becomes a Gatehouse group, whose name the admin API takes only with single
 * spaces between words and without a hidden character (src/roles/label-name.ts): `/Order Desk` is
 * imported; a group Keycloak allows — `Sales  Team` (two spaces), `staff\u200B` — would be a group
 * the admin API could neither create nor name. The import refuses
 * such a path as it refuses such a role (reported, dry run too: it is the plan's); the roles the group
 * carries still reach its members, as a refused composite's members do.
 */
describe('Keycloak import: group paths within the admin API rules', () => {
  const realm = {
    realm: 'grouped',
    enabled: true,
    roles: { realm: [{ name: 'seller' }, { name: 'eu-seller' }, { name: 'staff' }, { name: 'member' }] },
    groups: [
      { name: 'Sales  Team', path: '/Sales  Team', realmRoles: ['seller'], subGroups: [{ name: 'eu', path: '/Sales  Team/eu', realmRoles: ['eu-seller'], subGroups: [] }] },
      { name: 'staff\u200B', path: '/staff\u200B', realmRoles: ['staff'], subGroups: [] },
      { name: 'members', path: '/members', realmRoles: ['member'], subGroups: [] },
      { name: 'Order Desk', path: '/Order Desk', realmRoles: ['member'], subGroups: [] },
    ],
    users: [{ id: 'u-1', username: 'sam', enabled: true, groups: ['/Sales  Team/eu', '/staff\u200B', '/members'] }],
    identityProviders: [{ alias: 'corp', providerId: 'oidc', enabled: true, config: { issuer: 'https://corp.example.com', clientId: 'gh', clientSecret: 's', authorizationUrl: 'https://corp.example.com/auth', tokenUrl: 'https://corp.example.com/token' } }],
    identityProviderMappers: [
      { name: 'sales', identityProviderAlias: 'corp', identityProviderMapper: 'oidc-advanced-group-idp-mapper', config: { claims: '[{"key":"dept","value":"sales"}]', group: '/Sales  Team' } },
    ],
  };
  const plan = planKeycloakImport(realm, new Date('2026-01-01T00:00:00Z'));

  it('a path with two spaces in a row or a hidden character is reported (its characters spelled out), not created, and no user is put in it', () => {
    expect(plan.groups.map((group) => group.name)).to.have.members(['/members', '/Order Desk']);
    const reported = plan.unmapped.filter((item) => item.kind === 'group').map((item) => item.name);
    expect(reported).to.include.members(['/Sales  Team', '/Sales  Team/eu', '/staff\\u200B']);
    expect(plan.unmapped.find((item) => item.kind === 'group' && item.name === '/Sales  Team')?.reason).to.match(/whitespace.*not created.*keep the roles/);
    expect(plan.users[0]!.user.groups).to.deep.equal(['/members']);
  });

  it("the roles a refused group gives (and its parents') still reach its members", () => {
    expect(plan.users[0]!.user.roles).to.deep.equal(['eu-seller', 'member', 'seller', 'staff']);
  });

  it("an identity provider's group mapper naming a refused group is reported, not mapped", () => {
    const provider = plan.upstreamProviders.find((one) => one.keycloakAlias === 'corp');
    expect(provider?.mapped.join(' ')).not.to.include('Sales  Team');
    const item = plan.unmapped.find((one) => one.kind === 'identity provider mapper' && one.name.includes('sales'));
    expect(item?.reason).to.include('/Sales  Team');
  });
});
