import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe22): a Keycloak realm role named `admin` is an application's role — Keycloak's own
 * administrators hold `realm-management` client roles, which the import skips. Gatehouse's role
 * `admin` opens its admin console and admin API. An import must not turn an application's
 * administrators (directly, through a group or through the realm's default role) into
 * administrators of the identity provider itself.
 */
describe('probe: a Keycloak realm role named admin does not make imported users Gatehouse administrators', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;

  before(async () => {
    deploy = await deployment('probe_kc_admin');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('direct, group and default-role grants of a realm role `admin` leave the users without Gatehouse admin', async () => {
    const user = (id: string, username: string, extra: Record<string, unknown>) => ({ id, username, enabled: true, email: `${username}@acme.test`, emailVerified: true, ...extra });
    const realm = {
      realm: 'probeadm',
      enabled: true,
      roles: {
        realm: [
          { name: 'admin', description: 'Shop administrator', composite: false, clientRole: false },
          { name: 'default-roles-probeadm', composite: true, composites: { realm: ['offline_access', 'admin'] }, clientRole: false },
        ],
      },
      defaultRole: { name: 'default-roles-probeadm', composite: true, clientRole: false },
      groups: [{ name: 'shop-admins', path: '/shop-admins', subGroups: [], realmRoles: ['admin'] }],
      users: [
        user('6f1d1c6e-0000-4000-8000-000000000001', 'direct', { realmRoles: ['admin'] }),
        user('6f1d1c6e-0000-4000-8000-000000000002', 'grouped', { realmRoles: [], groups: ['/shop-admins'] }),
        user('6f1d1c6e-0000-4000-8000-000000000003', 'everyone', { realmRoles: ['default-roles-probeadm'] }),
      ],
    };
    const imported = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', realm);
    expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
    const administrators: string[] = [];
    for (const id of ['6f1d1c6e-0000-4000-8000-000000000001', '6f1d1c6e-0000-4000-8000-000000000002', '6f1d1c6e-0000-4000-8000-000000000003']) {
      const shown = await callAdmin(gatehouse.url, token, 'GET', `/users/${id}`);
      expect(shown.status, JSON.stringify(shown.body)).to.equal(200);
      if ((shown.body.roles as string[]).includes('admin')) administrators.push(shown.body.username as string);
    }
    expect(administrators, 'imported users made Gatehouse administrators').to.deep.equal([]);
    // Gatehouse's administrators are the ones it had before the import (none here but the test's admin client).
    const admins = await callAdmin(gatehouse.url, token, 'GET', '/users?role=admin');
    expect(admins.status).to.equal(200);
    expect(JSON.stringify(admins.body)).not.to.match(/direct|grouped|everyone/);
  });
});
