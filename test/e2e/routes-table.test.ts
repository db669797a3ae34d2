import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';

async function introspect(url: string, clientId: string, secret: string, token: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Basic ${btoa(`${clientId}:${secret}`)}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(response.status, `${url} answers`).to.equal(200);
  return (await response.json()) as Record<string, unknown>;
}

describe('routes table: the paths in front of the provider match the way the provider matches', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;

  before(async () => {
    deploy = await deployment('routes_match');
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('introspects a JWT at /token/introspection/ and /TOKEN/Introspection (trailing slash, case) like at the exact path', async () => {
    const service = await relyingParty(deploy.issuer, cast.service.clientId, cast.service.secret);
    const { access_token: jwt } = await oidc.clientCredentialsGrant(service, { scope: 'read' });
    for (const path of ['/token/introspection', '/token/introspection/', '/TOKEN/Introspection']) {
      expect(await introspect(`${deploy.issuer}${path}`, cast.service.clientId, cast.service.secret, jwt), path).to.include({ active: true, client_id: cast.service.clientId });
    }
  });

  it('revokes a JWT at /token/revocation/ (trailing slash)', async () => {
    const service = await relyingParty(deploy.issuer, cast.service.clientId, cast.service.secret);
    const { access_token: jwt } = await oidc.clientCredentialsGrant(service, { scope: 'read' });
    const response = await fetch(`${deploy.issuer}/token/revocation/`, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa(`${cast.service.clientId}:${cast.service.secret}`)}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: jwt }).toString(),
    });
    expect(response.status).to.equal(200);
    expect(await introspect(`${deploy.issuer}/token/introspection`, cast.service.clientId, cast.service.secret, jwt)).to.include({ active: false });
  });
});
