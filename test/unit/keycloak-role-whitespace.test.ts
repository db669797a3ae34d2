import { expect } from 'chai';
import { planKeycloakImport } from '../../src/keycloak/realm-import.ts';
import { labelCreateSchema } from '../../src/operations/labels.ts';

/**
 * Keycloak takes any whitespace in a role's name. Gatehouse's rule for a role's name (POST
 * /admin/api/v1/roles, src/roles/label-name.ts) takes single spaces between words (`Order
 * Manager`, imported as it is) and refuses the rest — a space at an end, two in a row, NBSP,
 * U+3000, a tab. A Keycloak import keeps to that rule: such a role is reported, not created and
 * given to nobody, as one with a hidden character is; a composite of that name still gives its members.
 */
describe('Keycloak import: role names with single spaces are imported; other whitespace is reported, not created', () => {
  const realm = {
    realm: 'spaced',
    enabled: true,
    roles: {
      realm: [
        { name: 'Order Manager', composite: true, composites: { realm: ['orders.read'] } },
        { name: 'Order  Lead', composite: true, composites: { realm: ['orders.read'] } },
        { name: 'orders.read' },
        { name: ' lead' },
        { name: 'Order\u3000Desk' },
        { name: 'no\u00A0break' },
        { name: 'member' },
      ],
      client: { shop: [{ name: 'Gift Card' }, { name: 'buyer' }] },
    },
    groups: [{ name: 'desk', path: '/desk', realmRoles: ['Order  Lead'] }],
    clients: [{ clientId: 'svc', enabled: true, publicClient: false, secret: 'svc-secret-0123456789abcdef', serviceAccountsEnabled: true, standardFlowEnabled: false }],
    users: [
      { id: 'u-1', username: 'olga', enabled: true, realmRoles: ['Order Manager', 'Order  Lead', ' lead', 'Order\u3000Desk', 'no\u00A0break', 'member'], clientRoles: { shop: ['Gift Card', 'buyer'] } },
      { id: 'u-2', username: 'desmond', enabled: true, groups: ['/desk'] },
      { id: 'u-3', username: 'service-account-svc', enabled: true, serviceAccountClientId: 'svc', realmRoles: ['Order  Lead', 'member'] },
    ],
  };
  const plan = planKeycloakImport(realm, new Date('2026-01-01T00:00:00Z'));
  const rolesOf = (username: string) => plan.users.find((one) => one.user.username === username)?.user.roles;

  it('a name with single spaces between words is created as it is; other whitespace is reported (kind role) with a message that says why and what to do, and is not created', () => {
    const names = plan.roles.map((role) => role.name);
    expect(names).to.have.members(['Order Manager', 'orders.read', 'member', 'shop:Gift Card', 'shop:buyer']);
    for (const name of ['Order  Lead', ' lead', 'Order\u3000Desk', 'no\u00A0break']) {
      const item = plan.unmapped.find((one) => one.kind === 'role' && one.name === name);
      expect(item, name).to.not.equal(undefined);
      expect(item!.reason).to.equal("holds whitespace other than single spaces between words (a tab, a line break, another space, two in a row, or at an end: the admin API refuses it in a role's name): not created, and given to nobody (its composite's members still are). Rename it in Keycloak, and in the apps that check it");
    }
  });

  it("is given to nobody — users, groups' members, service accounts — while its composite's members still are; the spaced names are given as any", () => {
    expect(rolesOf('olga')).to.have.members(['Order Manager', 'member', 'orders.read', 'shop:Gift Card', 'shop:buyer']);
    expect(rolesOf('desmond')).to.deep.equal(['orders.read']);
    expect(plan.serviceAccounts.find((account) => account.clientId === 'svc')?.roles).to.deep.equal(['member', 'orders.read']);
  });

  it("follows the admin API's rule exactly: every role it creates POST /roles takes, every role it refuses POST /roles refuses", () => {
    for (const { name } of plan.roles) expect(labelCreateSchema.safeParse({ name }).data?.name, name).to.equal(name);
    // (A composite created is listed too, to say its members were flattened: not a refusal.)
    for (const item of plan.unmapped.filter((one) => one.kind === 'role' && !one.reason.startsWith('composite role'))) expect(labelCreateSchema.safeParse({ name: item.name }).data?.name, item.name).to.not.equal(item.name);
  });
});
