import { expect } from 'chai';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import { ACR_VALUES } from '../../src/oidc/acr.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { formsOf, signIn, UserAgent } from '../helpers/browserless.ts';
import { runCli } from '../helpers/process.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';

/** A user with every standard claim set, through the admin API as an operator would. */
const PROFILE = {
  email: 'ada@example.com',
  email_verified: true,
  name: 'Ada Lovelace',
  given_name: 'Ada',
  family_name: 'Lovelace',
  middle_name: 'Augusta',
  nickname: 'Countess',
  profile: 'https://people.example.com/ada',
  picture: 'https://people.example.com/ada.png',
  website: 'https://ada.example.com/',
  gender: 'female',
  birthdate: '1815-12-10',
  zoneinfo: 'Europe/London',
  locale: 'en-GB',
  phone_number: '+442071234567',
  phone_number_verified: true,
  address: { street_address: '12 St James Square', locality: 'London', postal_code: 'SW1Y 4JH', country: 'GB' },
};

/** Claims about the authentication or the token itself, never about the user: userinfo does not carry them. */
// azp, realm_access and resource_access are for clients with Keycloak claims, in their ID tokens
// (test/integration/keycloak-client-claims.test.ts), never at userinfo.
const TOKEN_CLAIMS = new Set(['sub', 'acr', 'amr', 'auth_time', 'iss', 'sid', 'azp', 'realm_access', 'resource_access']);

describe('standard claims: profile attributes, scopes, the claims parameter and acr (openid-client)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let userId: string;
  let username: string;
  let web: { clientId: string; secret: string };
  let minimal: { clientId: string; secret: string };
  let thirdParty: { clientId: string; secret: string };

  async function client(name: string, extra: Record<string, unknown> = {}, firstParty = true) {
    const created = await gatehouse.services.clients.create({
      displayName: name,
      firstParty,
      metadata: {
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile email address phone roles groups',
        ...extra,
      },
    });
    return { clientId: created.client.clientId, secret: created.secret! };
  }

  before(async () => {
    deploy = await deployment('claims');
    gatehouse = await deploy.start();
    const admin = await adminClient(gatehouse);
    username = `ada${Math.random().toString(36).slice(2, 8)}`;
    const created = await callAdmin(gatehouse.url, await admin.token(), 'POST', '/users', { username, password: PASSWORD, ...PROFILE });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    userId = created.body.id;
    web = await client('Claims web app');
    minimal = await client('Minimal ID token app', { minimal_id_token: true });
    thirdParty = await client('Third-party app', {}, false);
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
  });

  async function tokensFor(app: { clientId: string; secret: string }, extra: Record<string, string>) {
    const config = await relyingParty(deploy.issuer, app.clientId, app.secret);
    const request = await authorizationRequest(config, REDIRECT_URI, extra);
    const outcome = await signIn(new UserAgent(), request.url.toString(), REDIRECT_URI, { username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, outcome.callback, request.checks);
    return { config, tokens, idToken: decodeJwt(tokens.id_token!) as Record<string, unknown> };
  }

  async function callbackError(app: { clientId: string; secret: string }, extra: Record<string, string>) {
    const config = await relyingParty(deploy.issuer, app.clientId, app.secret);
    const request = await authorizationRequest(config, REDIRECT_URI, extra);
    const outcome = await signIn(new UserAgent(), request.url.toString(), REDIRECT_URI, { username, password: PASSWORD });
    return { error: outcome.callback.searchParams.get('error'), description: outcome.callback.searchParams.get('error_description') };
  }

  it('discovery advertises the claims parameter, acr values, and only claims and scopes a user can carry', async () => {
    const metadata = (await (await fetch(`${deploy.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata.claims_parameter_supported).to.equal(true);
    expect(metadata.acr_values_supported, 'exactly the levels a sign-in can reach').to.deep.equal([...ACR_VALUES]).and.include('password');
    expect(metadata.scopes_supported).to.include.members(['openid', 'profile', 'email', 'address', 'phone', 'offline_access']);
    expect(metadata.claims_supported).to.include.members(['acr', 'birthdate', 'zoneinfo', 'locale', 'address', 'phone_number', 'phone_number_verified']);

    // Honesty: every advertised user claim comes back for a user who has them all.
    const { config, tokens } = await tokensFor(web, { scope: 'openid profile email address phone roles groups' });
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, userId);
    const advertised = (metadata.claims_supported as string[]).filter((claim) => !TOKEN_CLAIMS.has(claim));
    expect(advertised.filter((claim) => !(claim in userinfo)), 'advertised but never supplied').to.deep.equal([]);
  });

  it('releases each attribute under its scope, in userinfo and (by default) in the ID token', async () => {
    const { config, tokens, idToken } = await tokensFor(web, { scope: 'openid profile' });
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, userId);
    const profileClaims = {
      name: 'Ada Lovelace',
      given_name: 'Ada',
      family_name: 'Lovelace',
      middle_name: 'Augusta',
      nickname: 'Countess',
      preferred_username: username,
      profile: PROFILE.profile,
      picture: PROFILE.picture,
      website: PROFILE.website,
      gender: 'female',
      birthdate: '1815-12-10',
      zoneinfo: 'Europe/London',
      locale: 'en-GB',
    };
    expect(userinfo).to.include(profileClaims);
    expect(userinfo.updated_at).to.be.a('number');
    expect(userinfo).not.to.have.any.keys('email', 'phone_number', 'address');
    expect(idToken).to.include(profileClaims);
    expect(idToken).not.to.have.any.keys('email', 'phone_number', 'address');

    const other = await tokensFor(web, { scope: 'openid phone address' });
    const info = await oidc.fetchUserInfo(other.config, other.tokens.access_token, userId);
    expect(info).to.deep.include({ phone_number: '+442071234567', phone_number_verified: true, address: PROFILE.address });
    expect(info).not.to.have.any.keys('name', 'birthdate', 'email');
  });

  it('signs userinfo for a client that asks (userinfo_signed_response_alg, set through the admin API): application/jwt with iss and aud, verified by openid-client against the JWKS', async () => {
    const token = await (await adminClient(gatehouse)).token();
    const refused = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'Bad alg', redirect_uris: [REDIRECT_URI], userinfo_signed_response_alg: 'HS256' });
    expect(refused.status).to.equal(400);
    expect(JSON.stringify(refused.body.details)).to.include('userinfo_signed_response_alg');
    const jwks = createLocalJWKSet((await (await fetch(`${deploy.issuer}/jwks`)).json()) as JSONWebKeySet);
    for (const alg of ['RS256', 'ES256']) {
      const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', {
        name: `Signed userinfo ${alg}`,
        redirect_uris: [REDIRECT_URI],
        scope: 'openid profile email',
        first_party: true,
        userinfo_signed_response_alg: alg,
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body.userinfo_signed_response_alg).to.equal(alg);
      const app = { clientId: created.body.client_id as string, secret: created.body.client_secret as string };
      const { tokens } = await tokensFor(app, { scope: 'openid profile email' });

      // The app's own view: openid-client asks for application/jwt and checks the signature with the JWKS.
      const config = await oidc.discovery(new URL(deploy.issuer), app.clientId, { client_secret: app.secret, userinfo_signed_response_alg: alg }, oidc.ClientSecretBasic(app.secret), {
        execute: [oidc.allowInsecureRequests],
      });
      oidc.enableNonRepudiationChecks(config);
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, userId);
      expect(userinfo).to.include({ sub: userId, name: 'Ada Lovelace', email: 'ada@example.com' });

      const response = await fetch(`${deploy.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^application\/jwt/);
      const jwt = await response.text();
      expect(decodeProtectedHeader(jwt).alg).to.equal(alg);
      const { payload } = await jwtVerify(jwt, jwks, { issuer: deploy.issuer, audience: app.clientId });
      expect(payload).to.include({ sub: userId, email: 'ada@example.com' });
    }
    // Without the setting, userinfo stays JSON.
    const plain = await tokensFor(web, { scope: 'openid profile' });
    const json = await fetch(`${deploy.issuer}/me`, { headers: { authorization: `Bearer ${plain.tokens.access_token}` } });
    expect(json.headers.get('content-type')).to.match(/^application\/json/);
  });

  it('the CLI sets and clears it: clients update ID --userinfo-signed-response-alg ES256 / --unset userinfo_signed_response_alg', async () => {
    const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
    const set = await runCli(['clients', 'update', minimal.clientId, '--userinfo-signed-response-alg', 'ES256', '--json'], env);
    expect(set.code, set.stderr).to.equal(0);
    expect(JSON.parse(set.stdout).userinfo_signed_response_alg).to.equal('ES256');
    const bad = await runCli(['clients', 'update', minimal.clientId, '--userinfo-signed-response-alg', 'HS256', '--json'], env);
    expect(bad.code).not.to.equal(0);
    expect(bad.stderr).to.include('--userinfo-signed-response-alg');
    const cleared = await runCli(['clients', 'update', minimal.clientId, '--unset', 'userinfo_signed_response_alg', '--json'], env);
    expect(cleared.code, cleared.stderr).to.equal(0);
    expect(JSON.parse(cleared.stdout).userinfo_signed_response_alg).to.equal(null);
  });

  it('puts acr in every ID token: the password level, whatever acr_values asked for voluntarily', async () => {
    expect((await tokensFor(web, { scope: 'openid' })).idToken.acr).to.equal('password');
    const voluntary = await tokensFor(web, { scope: 'openid', acr_values: 'urn:example:loa:3 password' });
    expect(voluntary.idToken.acr).to.equal('password');
    const refreshed = await oidc.refreshTokenGrant(voluntary.config, voluntary.tokens.refresh_token!);
    expect(decodeJwt(refreshed.id_token!).acr, 'a refreshed ID token keeps the sign-in level').to.equal('password');
    const userinfo = await oidc.fetchUserInfo(voluntary.config, voluntary.tokens.access_token, userId);
    expect(userinfo).not.to.have.property('acr');
  });

  it('claims parameter: places requested claims in userinfo or the ID token as asked (OIDC Core 5.5)', async () => {
    const claims = JSON.stringify({ userinfo: { phone_number: { essential: true }, birthdate: null }, id_token: { nickname: null, email: { essential: true } } });
    const { config, tokens, idToken } = await tokensFor(web, { scope: 'openid', claims });
    expect(idToken).to.include({ nickname: 'Countess', email: 'ada@example.com' });
    expect(idToken).not.to.have.any.keys('phone_number', 'birthdate', 'name');
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, userId);
    expect(userinfo).to.include({ phone_number: '+442071234567', birthdate: '1815-12-10' });
    expect(userinfo).not.to.have.any.keys('nickname', 'email', 'name');
  });

  it('claims parameter: a minimal_id_token client still gets what it asked for by name in the ID token', async () => {
    const claims = JSON.stringify({ id_token: { locale: { essential: true } } });
    const { idToken } = await tokensFor(minimal, { scope: 'openid profile email', claims });
    expect(idToken).to.include({ locale: 'en-GB', acr: 'password' });
    expect(idToken).not.to.have.any.keys('name', 'email', 'birthdate');
  });

  it('claims parameter: an essential acr Gatehouse can reach is honoured; one it never can fails at the client', async () => {
    const reachable = JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:example:mfa', 'password'] } } });
    expect((await tokensFor(web, { scope: 'openid', claims: reachable })).idToken.acr).to.equal('password');

    const unreachable = JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:example:loa:4' } } });
    const failed = await callbackError(web, { scope: 'openid', claims: unreachable });
    expect(failed.error).to.equal('unmet_authentication_requirements');
    expect(failed.description).to.contain('password');
  });

  it('claims parameter: a third-party app asks for consent to each claim it names, in words', async () => {
    const config = await relyingParty(deploy.issuer, thirdParty.clientId, thirdParty.secret);
    const claims = JSON.stringify({ userinfo: { birthdate: { essential: true }, zoneinfo: null } });
    const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid', claims });
    const agent = new UserAgent();
    const settle = async (url: string): Promise<{ url: string; html: string }> => {
      let response = await agent.request(url);
      while (response.status >= 300 && response.status < 400) {
        url = new URL(response.headers.get('location')!, url).toString();
        response = await agent.request(url);
      }
      return { url, html: await response.text() };
    };
    const login = await settle(request.url.toString());
    const form = formsOf(login.html).find((candidate) => candidate.action.endsWith('/login'))!;
    const submitted = await agent.postForm(new URL(form.action, login.url).toString(), { ...form.fields, login: username, password: PASSWORD });
    const consent = await settle(new URL(submitted.headers.get('location')!, login.url).toString());
    expect(consent.html).to.include('Your date of birth').and.include('Your time zone');
  });

  it('claims parameter: malformed values are invalid_request at the client, never a 500', async () => {
    for (const claims of ['not json', '[]', '{"userinfo": 5}', '{"other": {}}']) {
      const failed = await callbackError(web, { scope: 'openid', claims });
      expect(failed.error, claims).to.equal('invalid_request');
    }
  });
});
