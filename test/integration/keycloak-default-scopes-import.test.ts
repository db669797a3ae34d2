import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, relyingParty, type Deployment } from '../helpers/e2e.ts';

/** Written by a real Keycloak 26 (make-claim-scopes-fixture.sh): hr-app has the custom `department` as a default client scope, `clearance` as an optional one. */
const FIXTURE = fileURLToPath(new URL('../fixtures/keycloak/realm-export-claim-scopes.json', import.meta.url));
const REALM_EXPORT = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { clients: Array<{ clientId: string; defaultClientScopes?: string[]; optionalClientScopes?: string[] }> };
const REDIRECT = 'http://127.0.0.1:9/callback';
const NIA = { username: 'nia-claims', password: 'Claims password #12' };
const HR_APP = { clientId: 'hr-app', secret: 'hr-app-secret-0123456789' };

/**
 * Keycloak's default client scopes come over as the client's default_scopes: an app that asks for
 * `openid` alone, as it did against Keycloak, still gets its default custom scope's claims (and
 * profile and email); an optional scope stays asked-for.
 */
describe('Keycloak import: default client scopes → default_scopes', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;

  before(async () => {
    deploy = await deployment('keycloak_default_scopes');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('the fixture holds what Keycloak wrote: department a default client scope of hr-app, clearance an optional one', () => {
    const hrApp = REALM_EXPORT.clients.find((client) => client.clientId === HR_APP.clientId)!;
    expect(hrApp.defaultClientScopes).to.include.members(['department', 'profile', 'email', 'roles', 'web-origins']);
    expect(hrApp.optionalClientScopes).to.include('clearance');
  });

  it('maps the defaults it knows into default_scopes (not roles), and an app asking scope=openid gets the default scope\'s claims, not the optional one\'s', async () => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', REALM_EXPORT);
    expect(status, JSON.stringify(body)).to.equal(200);
    const client = await callAdmin(gatehouse.url, token, 'GET', `/clients/${HR_APP.clientId}`);
    expect(client.body.default_scopes).to.have.members(['profile', 'department', 'email']);
    expect((client.body.scope as string).split(' ')).to.include.members(['clearance', 'roles']);

    // nia allowed these in Keycloak: no consent page.
    const config = await relyingParty(deploy.issuer, HR_APP.clientId, HR_APP.secret);
    const request = await authorizationRequest(config, REDIRECT, { scope: 'openid' });
    const signedIn = await signIn(new UserAgent(), request.url.href, REDIRECT, NIA);
    expect(signedIn.sawConsent, 'nia allowed these scopes in Keycloak').to.equal(false);
    const tokens = await oidc.authorizationCodeGrant(config, signedIn.callback, request.checks);
    expect(tokens.scope?.split(' ')).to.have.members(['openid', 'profile', 'email', 'department']);
    const idToken = decodeJwt(tokens.id_token!);
    expect(idToken).to.include({ department: 'eng', tenant: 'acme', preferred_username: NIA.username });
    expect(idToken).not.to.have.property('level');
    expect(idToken).not.to.have.property('roles');
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck);
    expect(userinfo).to.include({ department: 'eng' });
    expect(userinfo.languages).to.deep.equal(['en', 'fr']);
    expect(userinfo).not.to.have.property('level');
  });
});
