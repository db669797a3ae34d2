import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { callAdmin, adminClient } from '../helpers/admin.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';
import { API, instanceForSuite } from '../helpers/e2e.ts';

/**
 * Probe (probe25): Keycloak's `clientHost` / `clientAddress` claims (round 24) carry the caller's
 * address into a service token, which an API may trust for allow-lists or audit. A caller must not
 * write them: without GATEHOUSE_TRUST_PROXY an X-Forwarded-For header is ignored (the peer's
 * address), and behind a trusted proxy only the last GATEHOUSE_PROXY_HOPS entries count (the one
 * the proxy appended), never what the caller put in front of them. In the JWT, in an opaque
 * token's introspection and for client_secret_post alike.
 */
describe('probe: clientHost / clientAddress under a forged X-Forwarded-For (real stores)', function () {
  this.timeout(120_000);

  const tokenFor = async (url: string, client: { clientId: string; secret: string }, headers: Record<string, string>, resource = API, post = false) => {
    const response = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(post ? {} : { authorization: clientSecretBasic(client.clientId, client.secret) }), ...headers },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource, ...(post ? { client_id: client.clientId, client_secret: client.secret } : {}) }).toString(),
    });
    const body = (await response.json()) as Record<string, string>;
    expect(response.status, JSON.stringify(body)).to.equal(200);
    return body.access_token!;
  };
  const introspect = async (url: string, client: { clientId: string; secret: string }, token: string, headers: Record<string, string>) => {
    const response = await fetch(`${url}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: clientSecretBasic(client.clientId, client.secret), ...headers },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(response.status).to.equal(200);
    return (await response.json()) as Record<string, unknown>;
  };
  const setUp = async (gatehouse: import('../../src/server.ts').RunningGatehouse) => {
    await gatehouse.services.apis.create({ identifier: API, scopes: ['read'] });
    await gatehouse.services.apis.create({ identifier: `${API}/opaque`, scopes: ['read'], format: 'opaque' });
    const token = await (await adminClient(gatehouse)).token();
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'Address worker', apis: [API, `${API}/opaque`], grant_types: ['client_credentials'], token_claims: 'keycloak' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return { clientId: created.body.client_id as string, secret: created.body.client_secret as string };
  };
  const loopback = /^(::ffff:)?127\.0\.0\.1$/;

  describe('without GATEHOUSE_TRUST_PROXY', () => {
    const suite = instanceForSuite('probe_client_addr_direct');
    let client: { clientId: string; secret: string };
    before(async () => {
      client = await setUp(suite.gatehouse);
    });

    it('the peer address, whatever X-Forwarded-For (or X-Real-IP, Forwarded) says', async () => {
      const forged = { 'x-forwarded-for': '203.0.113.66', 'x-real-ip': '203.0.113.67', forwarded: 'for=203.0.113.68' };
      for (const post of [false, true]) {
        const claims = decodeJwt(await tokenFor(suite.gatehouse.url, client, forged, API, post));
        expect(claims.clientAddress, `post ${post}`).to.match(loopback);
        expect(claims.clientHost).to.equal(claims.clientAddress);
      }
      const opaque = await tokenFor(suite.gatehouse.url, client, forged, `${API}/opaque`);
      const introspected = await introspect(suite.gatehouse.url, client, opaque, forged);
      expect(introspected.active).to.equal(true);
      expect(introspected.clientAddress).to.match(loopback);
      expect(introspected.clientHost).to.equal(introspected.clientAddress);
    });
  });

  describe('behind one trusted proxy (GATEHOUSE_TRUST_PROXY=true, GATEHOUSE_PROXY_HOPS=1)', () => {
    const suite = instanceForSuite('probe_client_addr_proxy', { settings: { GATEHOUSE_TRUST_PROXY: 'true', GATEHOUSE_PROXY_HOPS: '1' } });
    let client: { clientId: string; secret: string };
    before(async () => {
      client = await setUp(suite.gatehouse);
    });

    it('the entry the proxy appended, not the ones the caller sent before it', async () => {
      const claims = decodeJwt(await tokenFor(suite.gatehouse.url, client, { 'x-forwarded-for': '203.0.113.66, 198.51.100.7' }));
      expect(claims).to.include({ clientAddress: '198.51.100.7', clientHost: '198.51.100.7' });
      const opaque = await tokenFor(suite.gatehouse.url, client, { 'x-forwarded-for': '203.0.113.66,198.51.100.8' }, `${API}/opaque`);
      // Introspected from elsewhere: the address is the token's requester's, not the introspecting caller's.
      const introspected = await introspect(suite.gatehouse.url, client, opaque, { 'x-forwarded-for': '192.0.2.99' });
      expect(introspected).to.include({ active: true, clientAddress: '198.51.100.8', clientHost: '198.51.100.8' });
    });
  });
});
