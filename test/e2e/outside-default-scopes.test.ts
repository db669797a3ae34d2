import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { asPage, browse, followTo, signIn, submitForm, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, type Deployment } from '../helpers/e2e.ts';
import { application, operator, type Operator } from './outside.ts';

const PASSWORD = 'a default scope passphrase 7';
const REDIRECT = 'http://127.0.0.1:9/cb';
const ORDERS = 'https://orders.default-scopes.test';

/**
 * From outside: Keycloak's default client scopes as a client's `default_scopes` (admin API), and
 * openid-client apps that ask for `openid` alone — as a Keycloak app does — getting the default
 * claim scope's claim in the ID token, userinfo, the access token and its introspection, the token
 * response's `scope` and after a refresh, even one that names a narrower `scope` (Keycloak keeps
 * default scopes there too); a third-party app's consent page asks for it; the password grant and
 * the device flow add it too.
 */
describe('outside: client default scopes (Keycloak default client scopes)', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let ops: Operator;
  let userId: string;

  before(async () => {
    deploy = await deployment('outside_default_scopes');
    gatehouse = await deploy.start();
    ops = await operator(deploy);
    const scope = await ops.call('POST', '/claim-scopes', {
      name: 'department',
      description: { en: 'See your department' },
      mappers: [{ type: 'user_attribute', attribute: 'department', claim: 'department' }],
    });
    expect(scope.status, JSON.stringify(scope.body)).to.equal(201);
    expect((await ops.call('POST', '/apis', { identifier: ORDERS, name: 'Orders', scopes: ['read'] })).status).to.equal(201);
    const user = await ops.call('POST', '/users', { username: 'dora', password: PASSWORD, attributes: { department: 'eng' } });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    userId = user.body.id;
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
  });

  const credentials = { username: 'dora', password: PASSWORD };

  it('the admin API keeps default_scopes to the client\'s scope: 400 naming the field otherwise; GET shows them', async () => {
    const outside = await ops.call('POST', '/clients', { name: 'Bad', redirect_uris: [REDIRECT], scope: 'openid profile', default_scopes: ['department'] });
    expect(outside.status).to.equal(400);
    expect(outside.body.details).to.deep.include({ path: 'default_scopes', code: 'not_in_scope', params: { scope: 'department' }, message: "department is not one of the client's allowed scopes (scope): add it there first" });
    const offline = await ops.call('POST', '/clients', { name: 'Bad', redirect_uris: [REDIRECT], scope: 'openid offline_access', default_scopes: ['offline_access'] });
    expect(offline.status).to.equal(400);
    expect(offline.body.details[0]).to.include({ path: 'default_scopes', code: 'asked_only_scope' });
    const unknown = await ops.call('POST', '/clients', { name: 'Bad', redirect_uris: [REDIRECT], default_scopes: ['nowhere'] });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.details[0]).to.include({ path: 'default_scopes', code: 'unknown_scope' });

    const made = await ops.call('POST', '/clients', { name: 'Good', redirect_uris: [REDIRECT], scope: 'openid profile department', default_scopes: ['department'] });
    expect(made.status, JSON.stringify(made.body)).to.equal(201);
    expect(made.body.default_scopes).to.deep.equal(['department']);
    const id = made.body.client_id as string;
    // Taking the scope away from `scope` while it is a default is refused, naming default_scopes.
    const narrowed = await ops.call('PATCH', `/clients/${id}`, { scope: 'openid profile' });
    expect(narrowed.status).to.equal(400);
    expect(narrowed.body.details[0]).to.include({ path: 'default_scopes', code: 'not_in_scope' });
    const both = await ops.call('PATCH', `/clients/${id}`, { scope: 'openid profile', default_scopes: ['profile'] });
    expect(both.status, JSON.stringify(both.body)).to.equal(200);
    expect((await ops.call('GET', `/clients/${id}`)).body).to.include({ scope: 'openid profile' }).and.to.have.deep.property('default_scopes', ['profile']);
    const cleared = await ops.call('PATCH', `/clients/${id}`, { default_scopes: null });
    expect(cleared.body.default_scopes).to.equal(null);

    // Deleting a claim scope takes it off the clients' default scopes as off their scope.
    expect((await ops.call('POST', '/claim-scopes', { name: 'team', mappers: [{ type: 'hardcoded', claim: 'team', value: 'blue' }] })).status).to.equal(201);
    const withTeam = await ops.call('POST', '/clients', { name: 'Team', redirect_uris: [REDIRECT], scope: 'openid team profile', default_scopes: ['team', 'profile'] });
    expect(withTeam.status, JSON.stringify(withTeam.body)).to.equal(201);
    expect((await ops.call('DELETE', '/claim-scopes/team')).status).to.equal(204);
    const detached = (await ops.call('GET', `/clients/${withTeam.body.client_id}`)).body;
    expect(detached).to.include({ scope: 'openid profile' }).and.to.have.deep.property('default_scopes', ['profile']);
  });

  it("a first-party app asking scope=openid gets the default claim scope's claim in the ID token, userinfo, introspection, the token's scope and after a refresh", async () => {
    const created = await ops.call('POST', '/clients', {
      name: 'Intranet',
      redirect_uris: [REDIRECT],
      scope: 'openid profile department',
      default_scopes: ['department'],
      first_party: true,
    });
    const app = await application(deploy.issuer, created);
    const request = await authorizationRequest(app, REDIRECT, { scope: 'openid' });
    const outcome = await signIn(new UserAgent(), request.url.toString(), REDIRECT, credentials);
    const tokens = await oidc.authorizationCodeGrant(app, outcome.callback, request.checks);
    expect(tokens.scope?.split(' ')).to.have.members(['openid', 'department']);
    expect(tokens.claims()).to.include({ sub: userId, department: 'eng' });
    // Asked for openid alone: profile is the client's to ask for, not a default.
    expect(tokens.claims()).not.to.have.property('preferred_username');
    expect(await oidc.fetchUserInfo(app, tokens.access_token, userId)).to.include({ department: 'eng' });
    const introspected = await oidc.tokenIntrospection(app, tokens.access_token);
    expect(introspected).to.include({ active: true, department: 'eng' });
    expect(String(introspected.scope).split(' ')).to.include('department');

    const refreshed = await oidc.refreshTokenGrant(app, tokens.refresh_token!);
    expect(refreshed.scope?.split(' ')).to.include('department');
    expect(refreshed.claims()).to.include({ department: 'eng' });
    expect(await oidc.fetchUserInfo(app, refreshed.access_token, userId)).to.include({ department: 'eng' });

    // A refresh that names a narrower scope keeps the default scopes, as Keycloak's does.
    const narrower = await oidc.refreshTokenGrant(app, refreshed.refresh_token!, { scope: 'openid' });
    expect(narrower.scope?.split(' ')).to.have.members(['openid', 'department']);
    expect(narrower.claims()).to.include({ sub: userId, department: 'eng' });
    expect(await oidc.fetchUserInfo(app, narrower.access_token, userId)).to.include({ department: 'eng' });
    const narrowerIntrospected = await oidc.tokenIntrospection(app, narrower.access_token);
    expect(narrowerIntrospected).to.include({ active: true, department: 'eng' });
    expect(String(narrowerIntrospected.scope).split(' ')).to.have.members(['openid', 'department']);

    // A JWT access token for an API carries it as well (the scope asked for: openid and the API's).
    const forApi = await ops.call('PATCH', `/clients/${created.body.client_id}`, { apis: [ORDERS] });
    expect(forApi.status, JSON.stringify(forApi.body)).to.equal(200);
    const apiRequest = await authorizationRequest(app, REDIRECT, { scope: 'openid read', resource: ORDERS });
    const apiOutcome = await signIn(new UserAgent(), apiRequest.url.toString(), REDIRECT, credentials);
    const apiTokens = await oidc.authorizationCodeGrant(app, apiOutcome.callback, apiRequest.checks, { resource: ORDERS });
    expect(decodeJwt(apiTokens.access_token)).to.include({ aud: ORDERS, department: 'eng' });
  });

  it('a third-party app: the consent page asks for the default scope it did not name, and its tokens carry it once allowed', async () => {
    const created = await ops.call('POST', '/clients', { name: 'Partner', redirect_uris: [REDIRECT], scope: 'openid profile department', default_scopes: ['department'] });
    const app = await application(deploy.issuer, created);
    const request = await authorizationRequest(app, REDIRECT, { scope: 'openid' });
    const agent = new UserAgent();
    const login = asPage(await followTo(agent, request.url.toString(), REDIRECT));
    const consent = asPage(await submitForm(agent, login, 'login', { login: 'dora', password: PASSWORD, remember: 'yes' }, REDIRECT));
    expect(consent.html).to.contain('See your department');
    const callback = await submitForm(agent, consent, 'confirm', {}, REDIRECT);
    expect(callback).to.be.instanceOf(URL);
    const outcome = { callback: callback as URL };
    const tokens = await oidc.authorizationCodeGrant(app, outcome.callback, request.checks);
    expect(tokens.claims()).to.include({ department: 'eng' });
    expect(tokens.scope?.split(' ')).to.include('department');
  });

  it('a refresh token issued before the client gained a default scope still refreshes with a narrower scope, keeping the defaults it holds and not gaining the new one', async () => {
    const created = await ops.call('POST', '/clients', {
      name: 'Wiki',
      redirect_uris: [REDIRECT],
      scope: 'openid profile email department',
      default_scopes: ['profile'],
      first_party: true,
    });
    const app = await application(deploy.issuer, created);
    const request = await authorizationRequest(app, REDIRECT, { scope: 'openid email' });
    const outcome = await signIn(new UserAgent(), request.url.toString(), REDIRECT, credentials);
    const tokens = await oidc.authorizationCodeGrant(app, outcome.callback, request.checks);
    expect(tokens.scope?.split(' ')).to.have.members(['openid', 'email', 'profile']);
    // The operator makes department a default scope after the refresh token was issued.
    const widened = await ops.call('PATCH', `/clients/${created.body.client_id}`, { default_scopes: ['profile', 'department'] });
    expect(widened.status, JSON.stringify(widened.body)).to.equal(200);

    // No invalid_scope for the default the token does not hold; profile (a default it holds) is
    // kept, email (asked for once, not a default) is dropped as the refresh asked.
    const narrower = await oidc.refreshTokenGrant(app, tokens.refresh_token!, { scope: 'openid' });
    expect(narrower.scope?.split(' ')).to.have.members(['openid', 'profile']);
    expect(narrower.claims()).to.include({ sub: userId, preferred_username: 'dora' });
    expect(narrower.claims()).not.to.have.property('department');
    const info = await oidc.fetchUserInfo(app, narrower.access_token, userId);
    expect(info).to.include({ preferred_username: 'dora' });
    expect(info).not.to.have.property('department');
    // The rotated refresh token still holds what the first one did: a refresh naming no scope gets it all back.
    const all = await oidc.refreshTokenGrant(app, narrower.refresh_token!);
    expect(all.scope?.split(' ')).to.have.members(['openid', 'email', 'profile']);
    // Naming the new default outright is still refused: the token never held it.
    const refused = await oidc.refreshTokenGrant(app, all.refresh_token!, { scope: 'openid department' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(oidc.ResponseBodyError).and.to.include({ error: 'invalid_scope' });
  });

  it('the password grant and the device flow add the default scope too, and their refresh tokens keep it at a narrower refresh', async () => {
    const gateway = await application(
      deploy.issuer,
      await ops.call('POST', '/clients', {
        name: 'Gateway',
        scope: 'openid department',
        default_scopes: ['department'],
        first_party: true,
        allow_password_grant: true,
        grant_types: ['client_credentials', 'refresh_token'],
      }),
    );
    const viaPassword = await oidc.genericGrantRequest(gateway, 'password', { username: 'dora', password: PASSWORD, scope: 'openid' });
    expect(viaPassword.scope?.split(' ')).to.have.members(['openid', 'department']);
    expect(viaPassword.claims()).to.include({ sub: userId, department: 'eng' });
    const passwordRefreshed = await oidc.refreshTokenGrant(gateway, viaPassword.refresh_token!, { scope: 'openid' });
    expect(passwordRefreshed.scope?.split(' ')).to.have.members(['openid', 'department']);
    expect(passwordRefreshed.claims()).to.include({ sub: userId, department: 'eng' });

    const tv = await application(
      deploy.issuer,
      await ops.call('POST', '/clients', {
        name: 'TV',
        type: 'public',
        first_party: true,
        scope: 'openid department',
        default_scopes: ['department'],
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      }),
    );
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    await browse(new UserAgent(), started.verification_uri, 'never:', { ...credentials, userCode: started.user_code });
    const deviceTokens = await oidc.genericGrantRequest(tv, 'urn:ietf:params:oauth:grant-type:device_code', { device_code: started.device_code });
    expect(deviceTokens.claims()).to.include({ sub: userId, department: 'eng' });
    expect(deviceTokens.scope?.split(' ')).to.include('department');
    const deviceRefreshed = await oidc.refreshTokenGrant(tv, deviceTokens.refresh_token!, { scope: 'openid' });
    expect(deviceRefreshed.scope?.split(' ')).to.have.members(['openid', 'department']);
    expect(await oidc.fetchUserInfo(tv, deviceRefreshed.access_token, userId)).to.include({ department: 'eng' });
  });
});
