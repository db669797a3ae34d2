import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin, clientCredentials } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe22): `--api URI` (admin API `?api=URI`) makes an API every imported client may call.
 * Given the admin API's own audience, it must not give imported clients tokens for the admin API,
 * nor change what the admin API's own clients get.
 */
describe("probe: a Keycloak import whose --api is the admin API's audience", function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;

  before(async () => {
    deploy = await deployment('probe_kc_admin_api');
    gatehouse = await deploy.start();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('gives the imported service client no admin API token, and the admin clients keep theirs', async () => {
    const admin = await adminClient(gatehouse);
    const token = await admin.token();
    const audience = `${gatehouse.url}/admin/api/v1`;
    const realm = {
      realm: 'probeadminapi',
      enabled: true,
      clients: [{ clientId: 'kc-worker', enabled: true, publicClient: false, secret: 'kc-worker-secret-0123456789abcdef', serviceAccountsEnabled: true, standardFlowEnabled: false }],
    };
    const imported = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak?api=${encodeURIComponent(audience)}`, realm);
    expect(imported.status, JSON.stringify(imported.body)).to.equal(200);

    const worker = await clientCredentials(gatehouse.url, 'kc-worker', 'kc-worker-secret-0123456789abcdef', { scope: 'admin', resource: audience });
    expect(worker.body.access_token, JSON.stringify(worker.body)).to.equal(undefined);
    expect(worker.body.error).to.equal('invalid_target');
    const fresh = await admin.token();
    const users = await callAdmin(gatehouse.url, fresh, 'GET', '/users');
    expect(users.status, JSON.stringify(users.body)).to.equal(200);
  });
});
