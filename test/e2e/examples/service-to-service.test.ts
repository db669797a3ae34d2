import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { RunningGatehouse } from '../../../src/server.ts';
import { tokenSource } from '../../../examples/service-to-service/token-source.ts';
import { API, deployment, oauthError, seed, type Deployment, type Seeded } from '../../helpers/e2e.ts';

/** A downstream API that checks the token locally and needs `write` for POST. */
function downstream(issuer: string): Promise<Server> {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const server = createServer((req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    void (async () => {
      try {
        const { payload } = await jwtVerify(token ?? '', jwks, { issuer, audience: API, typ: 'at+jwt' });
        const scopes = String(payload.scope ?? '').split(' ');
        const needed = req.method === 'POST' ? 'write' : 'read';
        res.writeHead(scopes.includes(needed) ? 200 : 403).end(scopes.includes(needed) ? `hello ${String(payload.client_id)}` : 'insufficient_scope');
      } catch {
        res.writeHead(401).end('invalid_token');
      }
    })();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('examples/service-to-service: client_credentials with a cached token', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let api: Server;
  let apiUrl: string;

  before(async () => {
    deploy = await deployment('example_s2s');
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    api = await downstream(deploy.issuer);
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/orders`;
  });
  after(async () => {
    api.close();
    await gatehouse.close();
    await deploy.drop();
  });

  const source = (extra: Partial<Parameters<typeof tokenSource>[0]> = {}) =>
    tokenSource({ issuer: deploy.issuer, clientId: cast.service.clientId, clientSecret: cast.service.secret, allowInsecureHttp: true, ...extra });

  it('calls the API with one token until shortly before it expires, then fetches the next', async () => {
    let clock = 1_000_000;
    const s2s = source({ scope: 'read', now: () => clock });
    const [a, b] = await Promise.all([s2s.token(), s2s.token()]);
    expect(a).to.equal(b);
    expect(s2s.requests).to.equal(1);
    const response = await s2s.fetch(apiUrl);
    expect(response.status).to.equal(200);
    expect(await response.text()).to.equal(`hello ${cast.service.clientId}`);
    expect(s2s.requests).to.equal(1);
    clock += (600 - 31) * 1000; // 600 s tokens, renewed 30 s early
    expect(await s2s.token()).to.equal(a);
    clock += 2000;
    expect(await s2s.token()).to.not.equal(a);
    expect(s2s.requests).to.equal(2);
  });

  it('is refused by the API without the scope it needs, and by Gatehouse for a bad secret, scope or API', async () => {
    expect((await source({ scope: 'read' }).fetch(apiUrl, { method: 'POST' })).status).to.equal(403);
    expect((await source({ scope: 'read write' }).fetch(apiUrl, { method: 'POST' })).status).to.equal(200);
    expect((await oauthError(source({ clientSecret: 'wrong' }).token())).error).to.equal('invalid_client');
    expect((await oauthError(source({ scope: 'delete' }).token())).error).to.equal('invalid_scope');
    expect((await oauthError(source({ resource: 'https://elsewhere.example.com' }).token())).error).to.equal('invalid_target');
  });
});
