import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe24): a user's roles and a client's service-account roles refuse control and invisible
 * format characters through the admin API, the CLI and the console (hidden_character): `admin\u200B`
 * shows as `admin` wherever it is read, a U+202E reverses the text around it. A Keycloak export's
 * role names reach the same places unchecked: the import must leave such a role out (reported), not
 * create it, give it to users, or put it into a service account's client_credentials tokens.
 */
describe('probe: Keycloak role names with hidden characters', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;

  before(async () => {
    deploy = await deployment('probe_kc_role_text');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('neither the user nor the service account gets them, and no such role is created', async () => {
    const HIDDEN = ['admin\u200B', 'billing\u202Eexe', 'ops\u0007'];
    const userId = '6f1d1c6e-0000-4000-8000-0000000000a1';
    const realm = {
      realm: 'probetext',
      enabled: true,
      roles: { realm: [...HIDDEN, 'member'].map((name) => ({ name, composite: false, clientRole: false })), client: { shop: [{ name: '\u202Eadmin', composite: false, clientRole: true }] } },
      clients: [{ clientId: 'svc-text', enabled: true, publicClient: false, secret: 'svc-text-secret-0123456789abcdef', serviceAccountsEnabled: true, standardFlowEnabled: false }],
      users: [
        { id: userId, username: 'textual', enabled: true, email: 'textual@acme.test', emailVerified: true, realmRoles: [...HIDDEN, 'member'], clientRoles: { shop: ['\u202Eadmin'] } },
        { id: '6f1d1c6e-0000-4000-8000-0000000000a2', username: 'service-account-svc-text', enabled: true, serviceAccountClientId: 'svc-text', realmRoles: [...HIDDEN, 'member'], clientRoles: { shop: ['\u202Eadmin'] } },
      ],
    };
    const imported = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', realm);
    expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
    const hidden = (roles: readonly string[]) => roles.filter((role) => /[\p{Cc}\p{Cf}]/u.test(role));
    const user = await callAdmin(gatehouse.url, token, 'GET', `/users/${userId}`);
    expect(user.status, JSON.stringify(user.body)).to.equal(200);
    expect(user.body.roles).to.include('member');
    expect(hidden(user.body.roles as string[]), 'user roles').to.deep.equal([]);
    const roles = ((await callAdmin(gatehouse.url, token, 'GET', '/roles')).body as { roles?: Array<{ name: string }> } | Array<{ name: string }>);
    const names = (Array.isArray(roles) ? roles : (roles.roles ?? [])).map((role) => role.name);
    expect(hidden(names), 'roles created').to.deep.equal([]);
    const client = await callAdmin(gatehouse.url, token, 'GET', '/clients/svc-text');
    expect(client.body.service_account_roles).to.include('member');
    expect(hidden(client.body.service_account_roles as string[]), 'service_account_roles').to.deep.equal([]);
  });
});
