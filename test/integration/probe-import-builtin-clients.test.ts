import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

const EVIL = 'https://evil.example/cb';

/**
 * Probe (probe22): "a Gatehouse client with the same client_id as a Keycloak one is replaced by
 * it". Gatehouse's own clients — the admin console's `gatehouse-console` (its tokens reach the
 * admin API) and the account page's `gatehouse-account` — must not be: an export naming them
 * with another redirect URI sent the administrators' codes elsewhere (the console's client kept
 * its admin API until the next start put it back). They are left as they are and reported.
 */
describe("probe: a Keycloak import does not replace Gatehouse's own clients", function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;

  before(async () => {
    deploy = await deployment('probe_kc_builtin');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('gatehouse-console and gatehouse-account keep their redirect URIs; the authorization endpoint refuses the export\'s', async () => {
    const before = await Promise.all(['gatehouse-console', 'gatehouse-account'].map((id) => callAdmin(gatehouse.url, token, 'GET', `/clients/${id}`)));
    for (const shown of before) expect(shown.status, JSON.stringify(shown.body)).to.equal(200);
    const client = (clientId: string) => ({ clientId, enabled: true, publicClient: true, standardFlowEnabled: true, redirectUris: [EVIL], webOrigins: ['https://evil.example'] });
    const realm = { realm: 'probebuiltin', enabled: true, clients: [client('gatehouse-console'), client('gatehouse-account')] };
    for (const query of ['?dry_run=true', '']) {
      const imported = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${query}`, realm);
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
      expect(imported.body.clients, query).to.deep.equal({ created: [], updated: [] });
      const reported = (imported.body.unmapped as Array<{ kind: string; name: string }>).filter((item) => item.kind === 'client').map((item) => item.name);
      expect(reported, query).to.have.members(['gatehouse-console', 'gatehouse-account']);
    }

    for (const [index, id] of ['gatehouse-console', 'gatehouse-account'].entries()) {
      const after = await callAdmin(gatehouse.url, token, 'GET', `/clients/${id}`);
      expect(after.status).to.equal(200);
      expect(after.body.redirect_uris, id).to.deep.equal(before[index]!.body.redirect_uris);
      expect(after.body.redirect_uris, id).not.to.include(EVIL);
      const url = new URL(`${gatehouse.url}/auth`);
      for (const [name, value] of Object.entries({ client_id: id, redirect_uri: EVIL, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) url.searchParams.set(name, value);
      const response = await fetch(url, { redirect: 'manual' });
      const location = response.headers.get('location') ?? '';
      expect(location.startsWith(EVIL), `${id}: the authorization endpoint redirects to the export's URI`).to.equal(false);
    }
  });
});
