import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, oauthError, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe25): round 24's Keycloak-shaped refresh (src/oidc/keycloak-refresh-scope.ts) runs the
 * library's refresh grant a second time without the scopes the token lacks. That second run must
 * be the only one that counts: the refresh token rotates once (with single use,
 * GATEHOUSE_REFRESH_REUSE_WINDOW=0, the old one is then refused and the new one works), the answer
 * never holds a scope the grant lacks — an admin API scope or offline_access among them — and a
 * resource the client may not reach stays refused, whatever scope the request named.
 */
describe('probe: a Keycloak-claims client refreshing with scopes its token lacks (openid-client, real stores)', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const username = 'probe-refresh-user';

  before(async () => {
    deploy = await deployment('probe_kc_refresh', { settings: { GATEHOUSE_REFRESH_REUSE_WINDOW: '0' } });
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    const created = await callAdmin(gatehouse.url, token, 'POST', '/users', { username, password: PASSWORD, email: `${username}@example.com`, email_verified: true });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  async function keycloakApp() {
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'KC app', redirect_uris: [REDIRECT_URI], first_party: true, grant_types: ['authorization_code', 'refresh_token'], token_claims: 'keycloak' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const config = await relyingParty(deploy.issuer, created.body.client_id as string, created.body.client_secret as string);
    const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid profile' });
    const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks);
    expect(tokens.refresh_token).to.be.a('string');
    return { config, tokens };
  }

  it('rotates the refresh token once: no unheld scope granted, the old one refused after, its replay ending the grant', async () => {
    const { config, tokens } = await keycloakApp();
    const held = tokens.scope!.split(' ').sort();
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid profile phone offline_access admin' });
    expect(refreshed.scope!.split(' ').sort()).to.deep.equal(held);
    for (const unheld of ['phone', 'offline_access', 'admin']) expect(refreshed.scope!.split(' ')).not.to.include(unheld);
    expect(refreshed.refresh_token).to.be.a('string').and.not.equal(tokens.refresh_token);
    expect((await oauthError(oidc.refreshTokenGrant(config, tokens.refresh_token!))).error).to.equal('invalid_grant');
    // Reuse of a rotated token under single use ends the grant (replay): the successor goes with it.
    expect((await oauthError(oidc.refreshTokenGrant(config, refreshed.refresh_token!))).error).to.equal('invalid_grant');
  });

  it("the successor alone works when the old one is not replayed; the admin API's audience stays out of reach", async () => {
    const { config, tokens } = await keycloakApp();
    const adminApi = `${deploy.issuer}/admin/api/v1`;
    const refused = await oauthError(oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid admin', resource: adminApi }));
    expect(refused.error).to.be.oneOf(['invalid_target', 'invalid_scope', 'invalid_grant']);
    // The refusal took nothing: the token still refreshes, once, and its access token is no admin API token.
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid admin' });
    const introspected = await oidc.tokenIntrospection(config, refreshed.access_token);
    expect(introspected.active).to.equal(true);
    expect([introspected.aud].flat()).not.to.include(adminApi);
    expect(String(introspected.scope ?? '').split(' ')).not.to.include('admin');
    expect(refreshed.scope!.split(' ')).not.to.include('admin');
    const next = await oidc.refreshTokenGrant(config, refreshed.refresh_token!);
    expect(next.access_token).to.be.a('string');
  });
});
