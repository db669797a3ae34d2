import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, relyingParty, type Deployment } from '../helpers/e2e.ts';

const KEYCLOAK_API = 'https://orders.example.com';

/**
 * Role and group names may hold single spaces between words, as Keycloak's do (`Order Manager`,
 * `Sales Team`): one rule (src/roles/label-name.ts) wherever a name enters — roles, groups, a
 * user's roles and groups, a service account's roles, default roles, MFA's required roles and
 * groups. Two spaces in a row, a tab, a line break or another kind of space (NBSP, U+3000) read
 * like one space, or like nothing: refused naming the field (`name_spacing`).
 */
describe('role and group names with spaces (admin API, real stores, openid-client)', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  before(async () => {
    deploy = await deployment('role_names_spaces');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    await gatehouse.services.apis.create({ identifier: KEYCLOAK_API, scopes: ['read'], tokenClaims: 'keycloak' });
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);
  const LOOK_ALIKES = ['Order  Manager', 'Order\tManager', 'Order\nManager', 'Order\u00A0Manager', 'Order\u3000Manager'];

  it('POST /roles and /groups take single spaces between words; the name reads back as sent, and its path (%20) reaches it', async () => {
    expect((await call('POST', '/roles', { name: 'Order Manager', description: 'Manages orders' })).status).to.equal(201);
    expect((await call('POST', '/groups', { name: 'Sales Team' })).status).to.equal(201);
    expect(((await call('GET', '/roles')).body as Array<{ name: string }>).map((role) => role.name)).to.include('Order Manager');
    expect(((await call('GET', '/groups')).body as Array<{ name: string }>).map((group) => group.name)).to.include('Sales Team');
    const ann = await call('POST', '/users', { username: 'ann-spaces', password: 'correct horse 1' });
    expect(ann.status).to.equal(201);
    expect((await call('POST', `/roles/${encodeURIComponent('Order Manager')}/members`, { user_id: ann.body.id })).status).to.equal(204);
    expect((await call('POST', `/groups/${encodeURIComponent('Sales Team')}/members`, { user_id: ann.body.id })).status).to.equal(204);
    expect((await call('GET', `/users/${ann.body.id as string}`)).body).to.deep.include({ roles: ['Order Manager'], groups: ['Sales Team'] });
    // The ends are trimmed, as any name's are: the same role.
    expect((await call('POST', '/roles', { name: '  Order Manager ' })).status).to.equal(409);
    expect((await call('DELETE', `/roles/${encodeURIComponent('Order Manager')}/members/${ann.body.id as string}`)).status).to.equal(204);
  });

  it('two spaces in a row, a tab, a line break, NBSP or an ideographic space are refused naming the field, wherever a name enters', async () => {
    const service = await call('POST', '/clients', { name: 'Spacing worker', grant_types: ['client_credentials'] });
    expect(service.status).to.equal(201);
    for (const name of LOOK_ALIKES) {
      const cases: Array<[string, string, unknown, string]> = [
        ['POST', '/roles', { name }, 'name'],
        ['POST', '/groups', { name }, 'name'],
        ['POST', '/users', { username: 'spacing-user', password: 'correct horse 1', roles: ['fine', name] }, 'roles.1'],
        ['POST', '/users', { username: 'spacing-user', password: 'correct horse 1', groups: [name] }, 'groups.0'],
        ['PATCH', `/clients/${encodeURIComponent(service.body.client_id as string)}`, { service_account_roles: [name] }, 'service_account_roles.0'],
        ['PATCH', '/settings/sign-in', { default_roles: [name] }, 'default_roles.0'],
        ['PATCH', '/settings/mfa', { mfa_required_groups: [name] }, 'mfa_required_groups.0'],
      ];
      for (const [method, path, body, field] of cases) {
        const response = await call(method, path, body);
        expect(response.status, `${method} ${path} ${JSON.stringify(name)}: ${JSON.stringify(response.body)}`).to.equal(400);
        expect(response.body.details.map((detail: { path: string; code: string }) => `${detail.path} ${detail.code}`), `${method} ${path} ${JSON.stringify(name)}`).to.include(`${field} name_spacing`);
      }
    }
    const roles = ((await call('GET', '/roles')).body as Array<{ name: string }>).map((role) => role.name);
    for (const name of LOOK_ALIKES) expect(roles).to.not.include(name);
  });

  it("a user's roles and a service account's roles with spaces reach the tokens as they are", async () => {
    const user = await call('POST', '/users', { username: 'olga-spaces', password: 'correct horse 1', roles: ['Order Manager'], groups: ['Sales Team'] });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    expect(user.body).to.deep.include({ roles: ['Order Manager'], groups: ['Sales Team'] });
    const service = await call('POST', '/clients', { name: 'Orders worker', grant_types: ['client_credentials'], apis: [KEYCLOAK_API], service_account_roles: ['Order Manager', 'shop:Gift Card'] });
    expect(service.status, JSON.stringify(service.body)).to.equal(201);
    const config = await relyingParty(deploy.issuer, service.body.client_id as string, service.body.client_secret as string);
    const claims = decodeJwt((await oidc.clientCredentialsGrant(config, { resource: KEYCLOAK_API })).access_token);
    expect(claims.realm_access).to.deep.equal({ roles: ['Order Manager'] });
    expect(claims.resource_access).to.deep.equal({ shop: { roles: ['Gift Card'] } });
  });
});
