import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe24): a client's service-account roles are names its client_credentials tokens carry
 * where a user's roles go (`roles`, `realm_access`). A user's roles refuse control and invisible
 * format characters (hidden_character, src/operations/users.ts): `admin\u200B` shows as `admin`
 * in every console, log and token viewer, and `\u202E` reverses the text shown around it. The
 * same names given to a service account must be refused the same way, naming the field — not
 * stored and signed into tokens. The `never admin` rule must not be dodged by padding either.
 */
describe('probe: service-account role names with hidden characters', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;

  before(async () => {
    deploy = await deployment('probe_sa_role_text');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  const HIDDEN = ['admin\u200B', '\u200Badmin', 'ad\u00ADmin', 'billing\u202E', 'reports\u0007', 'admin\u2060'];

  it('POST /clients refuses each naming service_account_roles (hidden_character); nothing is created', async () => {
    for (const role of HIDDEN) {
      const answer = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'Worker', service_account_roles: ['billing', role] });
      expect(answer.status, `${JSON.stringify(role)} → ${JSON.stringify(answer.body)}`).to.equal(400);
      expect(answer.body.details[0], JSON.stringify(role)).to.include({ code: 'hidden_character' });
      expect(String(answer.body.details[0].path), JSON.stringify(role)).to.match(/^service_account_roles/);
    }
  });

  it('PATCH refuses them too and the stored roles stay; padded admin stays refused as admin', async () => {
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'Worker', service_account_roles: ['billing'] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const path = `/clients/${encodeURIComponent(created.body.client_id as string)}`;
    for (const role of HIDDEN) {
      const answer = await callAdmin(gatehouse.url, token, 'PATCH', path, { service_account_roles: [role] });
      expect(answer.status, `${JSON.stringify(role)} → ${JSON.stringify(answer.body)}`).to.equal(400);
      expect(answer.body.details[0], JSON.stringify(role)).to.include({ code: 'hidden_character' });
    }
    for (const role of [' admin', 'admin ', '\tadmin\n', '\uFEFFadmin']) {
      const answer = await callAdmin(gatehouse.url, token, 'PATCH', path, { service_account_roles: [role] });
      expect(answer.status, JSON.stringify(role)).to.equal(400);
      expect(answer.body.details[0], JSON.stringify(role)).to.include({ code: 'admin_service_account_role' });
    }
    expect((await callAdmin(gatehouse.url, token, 'GET', path)).body.service_account_roles).to.deep.equal(['billing']);
  });

  it('legitimate names in other scripts and emoji with joiners are taken (the control)', async () => {
    const roles = ['биллинг', '账单', '청구', 'فوترة', '👩‍💻-ops', 'orders-api:orders.read'];
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'Worker', service_account_roles: roles });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.service_account_roles).to.deep.equal(roles);
  });
});
