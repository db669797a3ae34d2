import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, oauthError, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';

/**
 * A refresh naming a scope the refresh token does not hold: Keycloak leaves that scope out
 * (AbstractRefreshTokenProvider keeps the token's scopes that the request names) and answers; the
 * library answers invalid_scope, as RFC 6749 §6 has it. Clients with Keycloak's claims (every
 * client a Keycloak import creates) get Keycloak's answer; the others keep the RFC's.
 */
describe('refresh with a scope the refresh token lacks: Keycloak-shaped clients as Keycloak (openid-client)', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const username = 'refresh-scope-user';

  before(async () => {
    deploy = await deployment('kc_refresh_scope');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    const created = await callAdmin(gatehouse.url, token, 'POST', '/users', { username, password: PASSWORD, email: `${username}@example.com`, email_verified: true });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  async function tokensOf(body: Record<string, unknown>, scope = 'openid profile') {
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'App', redirect_uris: [REDIRECT_URI], first_party: true, grant_types: ['authorization_code', 'refresh_token'], ...body });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const config = await relyingParty(deploy.issuer, created.body.client_id as string, created.body.client_secret as string);
    const request = await authorizationRequest(config, REDIRECT_URI, { scope });
    const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks);
    expect(tokens.refresh_token).to.be.a('string');
    return { config, tokens };
  }

  it('a client with Keycloak claims: the scope it lacks is left out, the rest answered as Keycloak does', async () => {
    const { config, tokens } = await tokensOf({ token_claims: 'keycloak' });
    // Keycloak's default scopes for a first-party client (src/oidc/default-scopes.ts): profile and email; phone it never asked for.
    const held = tokens.scope!.split(' ').sort();
    expect(held).to.not.include('phone');
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid profile phone' });
    // As Keycloak's: the named scopes the token holds, and the client's default scopes (profile, email) as ever.
    expect(refreshed.scope?.split(' ').sort()).to.deep.equal(held);
    expect(refreshed.access_token).to.be.a('string');
    // Only scopes it lacks: the client's default scopes and openid (here all the token holds).
    const again = await oidc.refreshTokenGrant(config, refreshed.refresh_token!, { scope: 'phone' });
    expect(again.scope?.split(' ').sort()).to.deep.equal(held);
    // A narrower request still narrows.
    const narrower = await oidc.refreshTokenGrant(config, again.refresh_token!, { scope: 'openid phone' });
    expect(narrower.scope?.split(' ')).to.include('openid').and.not.include('phone');
  });

  it("only scopes it lacks: Keycloak's answer, the client's default scopes and openid — not the optional scopes the token holds", async () => {
    // Keycloak 26 narrows the token's scopes to those named (none here), then adds the client's default
    // client scopes (TokenManager.getRequestedClientScopes) and openid when the refresh token held it.
    const { config, tokens } = await tokensOf({ token_claims: 'keycloak' }, 'openid address');
    expect(tokens.scope!.split(' ').sort()).to.deep.equal(['address', 'email', 'openid', 'profile']);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'phone' });
    expect(refreshed.scope?.split(' ').sort()).to.deep.equal(['email', 'openid', 'profile']);
    expect(refreshed.id_token).to.be.a('string');
  });

  it('a refresh naming held scopes but not openid keeps openid and the ID token, as Keycloak 26 does; another client narrows to what it names', async () => {
    // Keycloak 26 adds openid back whenever the sign-in asked for it (DefaultClientSessionContext.getScopeString,
    // and TokenManager.refreshAccessToken issues the ID token on the client session's scope, not the refresh's).
    const keycloak = await tokensOf({ token_claims: 'keycloak' }, 'openid address');
    const refreshed = await oidc.refreshTokenGrant(keycloak.config, keycloak.tokens.refresh_token!, { scope: 'address' });
    expect(refreshed.scope?.split(' ').sort()).to.deep.equal(['address', 'email', 'openid', 'profile']);
    expect(refreshed.id_token).to.be.a('string');
    // The next refresh still holds openid: nothing was lost on the way.
    const again = await oidc.refreshTokenGrant(keycloak.config, refreshed.refresh_token!);
    expect(again.scope?.split(' ')).to.include('openid');
    // Gatehouse's own claims: RFC 6749 §6 narrowing, openid dropped when not named.
    const other = await tokensOf({}, 'openid profile');
    const narrowed = await oidc.refreshTokenGrant(other.config, other.tokens.refresh_token!, { scope: 'profile' });
    expect(narrowed.scope).to.equal('profile');
    expect(narrowed.id_token).to.equal(undefined);
  });

  it('another client: invalid_scope, as RFC 6749 §6 has it', async () => {
    const { config, tokens } = await tokensOf({});
    const refused = await oauthError(oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid profile phone' }));
    expect(refused.error).to.equal('invalid_scope');
    // The refresh token is still good.
    expect((await oidc.refreshTokenGrant(config, tokens.refresh_token!)).access_token).to.be.a('string');
  });
});
