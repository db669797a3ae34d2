import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { API, deployment, relyingParty, type Deployment } from '../helpers/e2e.ts';

/**
 * Deleting a role takes it off every user, and also off what hands it out without a user:
 * clients' service-account roles (their client_credentials tokens) and the runtime setting
 * default_roles (every new user) — as Keycloak's role deletion takes it off the service-account
 * user and the realm's default roles. A default_roles pinned by its variable: 409 before anything changes.
 */
describe('deleting a role reaches service_account_roles and default_roles (admin API)', function () {
  this.timeout(90_000);

  describe('stored settings', () => {
    let deploy: Deployment;
    let gatehouse: RunningGatehouse;
    let token: string;
    before(async () => {
      deploy = await deployment('role_refs');
      gatehouse = await deploy.start();
      token = await (await adminClient(gatehouse)).token();
      await gatehouse.services.apis.create({ identifier: API, scopes: ['read'], includeRoles: true });
    });
    after(async () => {
      await gatehouse.close();
      await deploy.drop();
    });
    const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

    it('the client record and its client_credentials tokens no longer carry it; default_roles no longer lists it; other roles stay', async () => {
      expect((await call('POST', '/roles', { name: 'ledger-writer' })).status).to.equal(201);
      const created = await call('POST', '/clients', { name: 'Ledger sync', apis: [API], grant_types: ['client_credentials'], service_account_roles: ['ledger-writer', 'reports'] });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const other = await call('POST', '/clients', { name: 'Reports only', apis: [API], grant_types: ['client_credentials'], service_account_roles: ['reports'] });
      const clientId = created.body.client_id as string;
      expect((await call('PATCH', '/settings/sign-in', { default_roles: ['member', 'ledger-writer'] })).status).to.equal(200);

      const config = await relyingParty(deploy.issuer, clientId, created.body.client_secret as string);
      const before = decodeJwt((await oidc.clientCredentialsGrant(config, { resource: API })).access_token);
      expect(before.roles).to.deep.equal(['ledger-writer', 'reports']);

      expect((await call('DELETE', '/roles/ledger-writer')).status).to.equal(204);

      expect((await call('GET', `/clients/${clientId}`)).body.service_account_roles).to.deep.equal(['reports']);
      const after = decodeJwt((await oidc.clientCredentialsGrant(config, { resource: API })).access_token);
      expect(after.roles, 'the next token, at once (the cached client is dropped)').to.deep.equal(['reports']);
      expect((await call('GET', `/clients/${other.body.client_id as string}`)).body.service_account_roles).to.deep.equal(['reports']);
      expect((await call('GET', '/settings/sign-in')).body.settings.default_roles.value).to.deep.equal(['member']);
      const user = await call('POST', '/users', { username: 'newcomer', email: 'newcomer@example.com' });
      expect(user.status, JSON.stringify(user.body)).to.equal(201);
      expect(user.body.roles).to.deep.equal(['member']);
      expect((await call('GET', '/roles')).body.map((role: { name: string }) => role.name)).to.not.include('ledger-writer');

      const events = (await call('GET', '/audit-events?type=role.deleted&limit=1')).body.events;
      expect(events[0].target).to.deep.equal({ type: 'role', id: 'ledger-writer' });
      expect(events[0].details).to.deep.equal({ clients: [clientId], default_roles: true });
    });

    it('a role no client and no setting names: deleted as before, nothing else changes', async () => {
      expect((await call('PATCH', '/settings/sign-in', { default_roles: ['member'] })).status).to.equal(200);
      expect((await call('POST', '/roles', { name: 'temp' })).status).to.equal(201);
      expect((await call('DELETE', '/roles/temp')).status).to.equal(204);
      expect((await call('GET', '/settings/sign-in')).body.settings.default_roles.value).to.deep.equal(['member']);
      expect((await call('GET', '/audit-events?type=role.deleted&limit=1')).body.events[0].details ?? {}).to.deep.equal({});
      expect((await call('DELETE', '/roles/temp')).status).to.equal(404);
    });
  });

  describe('default_roles pinned by GATEHOUSE_DEFAULT_ROLES', () => {
    let deploy: Deployment;
    let gatehouse: RunningGatehouse;
    let token: string;
    before(async () => {
      deploy = await deployment('role_refs_pinned', { settings: { GATEHOUSE_DEFAULT_ROLES: 'member,staff' } });
      gatehouse = await deploy.start();
      token = await (await adminClient(gatehouse)).token();
    });
    after(async () => {
      await gatehouse.close();
      await deploy.drop();
    });
    const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

    it('deleting a role the variable names answers 409 naming it, and nothing is changed', async () => {
      expect((await call('POST', '/roles', { name: 'staff' })).status).to.equal(201);
      const client = await call('POST', '/clients', { name: 'Staff sync', grant_types: ['client_credentials'], service_account_roles: ['staff'] });
      const refused = await call('DELETE', '/roles/staff');
      expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
      expect(refused.body.error_description).to.include('GATEHOUSE_DEFAULT_ROLES');
      expect((await call('GET', '/roles')).body.map((role: { name: string }) => role.name)).to.include('staff');
      expect((await call('GET', `/clients/${client.body.client_id as string}`)).body.service_account_roles).to.deep.equal(['staff']);
      // A role the variable does not name: deleted.
      expect((await call('POST', '/roles', { name: 'other' })).status).to.equal(201);
      expect((await call('DELETE', '/roles/other')).status).to.equal(204);
    });
  });
});
