import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/**
 * Deleting a group takes it off mfa_required_groups, as deleting a role takes the role off
 * mfa_required_roles (role-deletion-references.test.ts): a name left there would require a second
 * factor of a group created later with the same name, and the MFA settings, which refuse names of
 * no group, could not be saved as shown. Pinned by GATEHOUSE_MFA_REQUIRED_GROUPS: 409, nothing changes.
 */
describe('deleting a group reaches mfa_required_groups (admin API)', function () {
  this.timeout(90_000);

  describe('stored settings', () => {
    let deploy: Deployment;
    let gatehouse: RunningGatehouse;
    let token: string;
    before(async () => {
      deploy = await deployment('group_refs');
      gatehouse = await deploy.start();
      token = await (await adminClient(gatehouse)).token();
    });
    after(async () => {
      await gatehouse.close();
      await deploy.drop();
    });
    const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

    it('mfa_required_groups no longer lists it (the audit event says so); a group re-created with its name requires nothing; the list saves again as shown', async () => {
      for (const name of ['night-shift', 'treasury']) expect((await call('POST', '/groups', { name })).status).to.equal(201);
      expect((await call('PATCH', '/settings/mfa', { mfa_required_groups: ['night-shift', 'treasury'] })).status).to.equal(200);
      expect((await call('DELETE', '/groups/night-shift')).status).to.equal(204);
      const shown = (await call('GET', '/settings/mfa')).body.settings.mfa_required_groups.value as string[];
      expect(shown).to.deep.equal(['treasury']);
      const events = (await call('GET', '/audit-events?type=group.deleted&limit=1')).body.events;
      expect(events[0].details).to.deep.equal({ mfa_required_groups: true });
      const saved = await call('PATCH', '/settings/mfa', { mfa_required_groups: shown });
      expect(saved.status, JSON.stringify(saved.body)).to.equal(200);
      expect((await call('POST', '/groups', { name: 'night-shift' })).status).to.equal(201);
      expect((await call('GET', '/settings/mfa')).body.settings.mfa_required_groups.value).to.deep.equal(['treasury']);
    });

    it('a group no setting names: deleted as before, no details', async () => {
      expect((await call('POST', '/groups', { name: 'temp-group' })).status).to.equal(201);
      expect((await call('DELETE', '/groups/temp-group')).status).to.equal(204);
      expect((await call('GET', '/audit-events?type=group.deleted&limit=1')).body.events[0].details ?? {}).to.deep.equal({});
      expect((await call('GET', '/settings/mfa')).body.settings.mfa_required_groups.value).to.deep.equal(['treasury']);
    });
  });

  describe('mfa_required_groups pinned by GATEHOUSE_MFA_REQUIRED_GROUPS', () => {
    let deploy: Deployment;
    let gatehouse: RunningGatehouse;
    let token: string;
    before(async () => {
      deploy = await deployment('group_refs_pinned', { settings: { GATEHOUSE_MFA_REQUIRED_GROUPS: 'auditors' } });
      gatehouse = await deploy.start();
      token = await (await adminClient(gatehouse)).token();
    });
    after(async () => {
      await gatehouse.close();
      await deploy.drop();
    });
    const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

    it('deleting a group the variable names answers 409 naming it, and nothing is deleted', async () => {
      expect((await call('POST', '/groups', { name: 'auditors' })).status).to.equal(201);
      const refused = await call('DELETE', '/groups/auditors');
      expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
      expect(refused.body.error_description).to.include('GATEHOUSE_MFA_REQUIRED_GROUPS');
      expect((await call('GET', '/groups')).body.map((group: { name: string }) => group.name)).to.include('auditors');
      expect((await call('POST', '/groups', { name: 'other' })).status).to.equal(201);
      expect((await call('DELETE', '/groups/other')).status).to.equal(204);
    });
  });
});
