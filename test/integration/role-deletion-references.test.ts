import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { labelOperations } from '../../src/operations/labels.ts';
import { roleReferences } from '../../src/operations/role-references.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { API, deployment, relyingParty, type Deployment } from '../helpers/e2e.ts';

/**
 * Deleting a role takes it off every user, and also off what hands it out without a user:
 * clients' service-account roles (their client_credentials tokens) and the runtime setting
 * default_roles (every new user) — as Keycloak's role deletion takes it off the service-account
 * user and the realm's default roles — and off mfa_required_roles (a name left there would require a
 * second factor of a later role of the same name, and the settings form would refuse it as unknown).
 * A setting pinned by its variable: 409 before anything changes. The settings edits are made on the
 * settings as stored when written: a change another writer made meanwhile stays.
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

    it('mfa_required_roles no longer lists it (the audit event says so); a role re-created with its name requires nothing; the list saves again as shown', async () => {
      for (const name of ['vault-keeper', 'auditor']) expect((await call('POST', '/roles', { name })).status).to.equal(201);
      expect((await call('PATCH', '/settings/mfa', { mfa_required_roles: ['vault-keeper', 'auditor'] })).status).to.equal(200);
      expect((await call('DELETE', '/roles/vault-keeper')).status).to.equal(204);
      const shown = (await call('GET', '/settings/mfa')).body.settings.mfa_required_roles.value as string[];
      expect(shown).to.deep.equal(['auditor']);
      const events = (await call('GET', '/audit-events?type=role.deleted&limit=1')).body.events;
      expect(events[0].details).to.deep.equal({ mfa_required_roles: true });
      // The console's form sends the list it shows: a deleted name in it was refused (400 unknown_role).
      const saved = await call('PATCH', '/settings/mfa', { mfa_required_roles: shown });
      expect(saved.status, JSON.stringify(saved.body)).to.equal(200);
      expect((await call('POST', '/roles', { name: 'vault-keeper' })).status).to.equal(201);
      expect((await call('GET', '/settings/mfa')).body.settings.mfa_required_roles.value).to.deep.equal(['auditor']);
    });

    it("a settings change made between the deletion's read of the settings and its write stays (default_roles and mfa_required_roles)", async () => {
      const { runtimeSettings, clients, roles, audit } = gatehouse.services;
      for (const name of ['racer', 'steady', 'late-default', 'late-mfa']) await roles.create(name, '');
      await runtimeSettings.signIn.update({ default_roles: ['steady', 'racer'] });
      await runtimeSettings.mfa.update({ mfa_required_roles: ['steady', 'racer'] });
      // Another operator's change lands after the deletion looked at the settings, just before its write.
      const meanwhile = <S extends object>(store: typeof runtimeSettings.signIn | typeof runtimeSettings.mfa, change: () => Promise<unknown>) => {
        let landed = false;
        const update = async (patch: never) => {
          if (!landed) {
            landed = true;
            await change();
          }
          return store.update(patch);
        };
        return { ...store, update } as unknown as S;
      };
      const signIn = meanwhile<typeof runtimeSettings.signIn>(runtimeSettings.signIn, () => runtimeSettings.signIn.update({ default_roles: ['steady', 'racer', 'late-default'] }));
      const mfa = meanwhile<typeof runtimeSettings.mfa>(runtimeSettings.mfa, () => runtimeSettings.mfa.update({ mfa_required_roles: ['steady', 'racer', 'late-mfa'] }));
      const operations = labelOperations(roles, audit, undefined, roleReferences({ clients, signIn, mfa }));
      await operations.delete({ actor: { type: 'system', id: 'test' } }, 'racer');
      expect((await runtimeSettings.signIn.read()).settings.default_roles).to.deep.equal(['steady', 'late-default']);
      expect((await runtimeSettings.mfa.read()).settings.mfa_required_roles).to.deep.equal(['steady', 'late-mfa']);
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

  describe('mfa_required_roles pinned by GATEHOUSE_MFA_REQUIRED_ROLES', () => {
    let deploy: Deployment;
    let gatehouse: RunningGatehouse;
    let token: string;
    before(async () => {
      deploy = await deployment('role_refs_mfa_pinned', { settings: { GATEHOUSE_MFA_REQUIRED_ROLES: 'treasurer' } });
      gatehouse = await deploy.start();
      token = await (await adminClient(gatehouse)).token();
    });
    after(async () => {
      await gatehouse.close();
      await deploy.drop();
    });
    const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

    it('deleting a role the variable names answers 409 naming it, and nothing is changed', async () => {
      expect((await call('POST', '/roles', { name: 'treasurer' })).status).to.equal(201);
      expect((await call('PATCH', '/settings/sign-in', { default_roles: ['treasurer'] })).status).to.equal(200);
      const refused = await call('DELETE', '/roles/treasurer');
      expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
      expect(refused.body.error_description).to.include('GATEHOUSE_MFA_REQUIRED_ROLES');
      expect((await call('GET', '/roles')).body.map((role: { name: string }) => role.name)).to.include('treasurer');
      expect((await call('GET', '/settings/sign-in')).body.settings.default_roles.value).to.deep.equal(['treasurer']);
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
