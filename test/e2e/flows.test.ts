import { expect } from 'chai';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { browse, signIn, UserAgent } from '../helpers/browserless.ts';
import { testClock } from '../helpers/clock.ts';
import {
  authorizationRequest,
  deployment,
  LOGOUT_REDIRECT_URI,
  oauthError,
  PASSWORD,
  REDIRECT_URI,
  relyingParty,
  seed,
  type Deployment,
  type Seeded,
} from '../helpers/e2e.ts';

describe('device flow, PAR, DPoP and RP-initiated logout (openid-client)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let web: oidc.Configuration;

  before(async () => {
    deploy = await deployment('flows');
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  const credentials = () => ({ username: cast.user.username, password: PASSWORD });

  it('signs a device in: user code entered on the hosted page, tokens for the polling device', async () => {
    const tv = await gatehouse.services.clients.create({
      displayName: 'Living-room TV',
      metadata: {
        redirect_uris: [],
        response_types: [],
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        scope: 'openid profile offline_access',
      },
    });
    const device = await relyingParty(deploy.issuer, tv.client.clientId);
    const started = await oidc.initiateDeviceAuthorization(device, { scope: 'openid profile offline_access' });
    expect(started.user_code).to.be.a('string');
    const pending = await oauthError(
      oidc.genericGrantRequest(device, 'urn:ietf:params:oauth:grant-type:device_code', { device_code: started.device_code }),
    );
    expect(pending.error).to.equal('authorization_pending');

    const final = await browse(new UserAgent(), started.verification_uri, 'never:', { ...credentials(), userCode: started.user_code });
    expect(final.html).to.match(/success|signed in|complete/i);
    const tokens = await oidc.genericGrantRequest(device, 'urn:ietf:params:oauth:grant-type:device_code', {
      device_code: started.device_code,
    });
    expect(tokens.claims()!.sub).to.equal(cast.user.id);
    expect(tokens.refresh_token).to.be.a('string');
  });

  it('accepts pushed authorization requests (PAR)', async () => {
    const { checks } = await authorizationRequest(web, REDIRECT_URI);
    const url = await oidc.buildAuthorizationUrlWithPAR(web, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
      code_challenge_method: 'S256',
      state: checks.expectedState,
      nonce: checks.expectedNonce,
    });
    expect(url.searchParams.get('request_uri')).to.match(/^urn:ietf:params:oauth:request_uri:/);
    expect(url.searchParams.has('scope'), 'the parameters travel by reference').to.equal(false);
    const outcome = await signIn(new UserAgent(), url.toString(), REDIRECT_URI, credentials());
    const tokens = await oidc.authorizationCodeGrant(web, outcome.callback, checks);
    expect(tokens.claims()!.sub).to.equal(cast.user.id);
  });

  it('binds tokens to a DPoP key: usable with the proof, rejected without it', async () => {
    const dpop = oidc.getDPoPHandle(web, await oidc.randomDPoPKeyPair('ES256'));
    const { url, checks } = await authorizationRequest(web, REDIRECT_URI);
    const outcome = await signIn(new UserAgent(), url.toString(), REDIRECT_URI, credentials());
    const tokens = await oidc.authorizationCodeGrant(web, outcome.callback, checks, undefined, { DPoP: dpop });
    expect(tokens.token_type.toLowerCase()).to.equal('dpop');
    expect((await oidc.fetchUserInfo(web, tokens.access_token, cast.user.id, { DPoP: dpop })).sub).to.equal(cast.user.id);

    const asBearer = await fetch(`${deploy.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(asBearer.status).to.equal(401);
    const withoutProof = await fetch(`${deploy.issuer}/me`, { headers: { authorization: `DPoP ${tokens.access_token}` } });
    expect(withoutProof.status).to.be.oneOf([400, 401]);
    expect(withoutProof.headers.get('www-authenticate')).to.match(/invalid_(dpop_proof|token|request)/);

    const introspection = await oidc.tokenIntrospection(web, tokens.access_token);
    expect(introspection.active).to.equal(true);
    expect(introspection.cnf).to.have.property('jkt');
    // RFC 9449 §5: a confidential client's refresh token is bound to its client authentication,
    // not to the DPoP key; the new access token is bound again when a proof comes with the refresh.
    const refreshed = await oidc.refreshTokenGrant(web, tokens.refresh_token!, undefined, { DPoP: dpop });
    expect(refreshed.token_type.toLowerCase()).to.equal('dpop');
  });

  it('ends the session at RP-initiated logout, and the session-bound tokens with it', async () => {
    const agent = new UserAgent();
    const { url, checks } = await authorizationRequest(web, REDIRECT_URI);
    const outcome = await signIn(agent, url.toString(), REDIRECT_URI, credentials());
    const tokens = await oidc.authorizationCodeGrant(web, outcome.callback, checks);
    expect((await oidc.tokenIntrospection(web, tokens.access_token)).active).to.equal(true);

    const logout = oidc.buildEndSessionUrl(web, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGOUT_REDIRECT_URI, state: 'bye' });
    const done = await browse(agent, logout.toString(), LOGOUT_REDIRECT_URI);
    expect(new URL(done.url).searchParams.get('state')).to.equal('bye');

    expect((await oidc.tokenIntrospection(web, tokens.access_token)).active, 'access token ended with the session').to.equal(false);
    expect((await oauthError(oidc.refreshTokenGrant(web, tokens.refresh_token!))).error).to.equal('invalid_grant');
    const again = await authorizationRequest(web, REDIRECT_URI);
    const next = await signIn(agent, again.url.toString(), REDIRECT_URI, credentials());
    expect(next.sawLogin, 'signed out: the password is asked again').to.equal(true);
  });

  it('keeps offline_access refresh tokens alive across logout', async () => {
    const agent = new UserAgent();
    const { url, checks } = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid offline_access', prompt: 'consent' });
    const outcome = await signIn(agent, url.toString(), REDIRECT_URI, credentials());
    const tokens = await oidc.authorizationCodeGrant(web, outcome.callback, checks);
    const logout = oidc.buildEndSessionUrl(web, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGOUT_REDIRECT_URI });
    await browse(agent, logout.toString(), LOGOUT_REDIRECT_URI);
    expect((await oidc.refreshTokenGrant(web, tokens.refresh_token!)).access_token).to.be.a('string');
  });
});

describe('authorization over HTTPS (issuer behind a TLS proxy)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;

  before(async () => {
    deploy = await deployment('https', { issuer: 'https://sso.example.test', settings: { GATEHOUSE_TRUST_PROXY: 'true' } });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('accepts POST /auth and sets SameSite=None; Secure cookies', async () => {
    const response = await fetch(`${gatehouse.url}/auth`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
      body: new URLSearchParams({
        client_id: cast.web.clientId,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: REDIRECT_URI,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }).toString(),
    });
    expect(response.status).to.equal(303);
    expect(response.headers.get('location')).to.match(/^(https:\/\/sso\.example\.test)?\/interaction\//);
    const cookies = response.headers.getSetCookie();
    expect(cookies.length).to.be.greaterThan(0);
    for (const cookie of cookies) {
      expect(cookie.toLowerCase(), cookie).to.include('samesite=none');
      expect(cookie.toLowerCase(), cookie).to.include('secure');
      expect(cookie.toLowerCase(), cookie).to.include('httponly');
    }
  });
});

describe('key rotation seen by relying parties', () => {
  const clock = testClock();
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;

  before(async () => {
    deploy = await deployment('rotation_rp', { clock, settings: { GATEHOUSE_KEY_PUBLISH_DELAY: '3600', GATEHOUSE_KEY_RETENTION: '7200' } });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('signs with the new key after the delay, and still accepts an id_token_hint signed by the previous one at logout', async () => {
    const web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const agent = new UserAgent();
    const first = await authorizationRequest(web, REDIRECT_URI);
    const outcome = await signIn(agent, first.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    const before = await oidc.authorizationCodeGrant(web, outcome.callback, first.checks);
    const oldKid = decodeProtectedHeader(before.id_token!).kid;

    const rotation = await gatehouse.rotateKeys();
    // The new keys sign from activateAt: move the instance's clock there (no sleeping).
    await clock.advance(rotation.signingKeys[0]!.activateAt.getTime() - clock.now() + 1);

    const refreshedConfig = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const second = await authorizationRequest(refreshedConfig, REDIRECT_URI);
    const again = await signIn(agent, second.url.toString(), REDIRECT_URI, {});
    const after = await oidc.authorizationCodeGrant(refreshedConfig, again.callback, second.checks);
    expect(decodeProtectedHeader(after.id_token!).kid).not.to.equal(oldKid);
    expect(decodeJwt(before.id_token!).sub).to.equal(cast.user.id);

    const logout = oidc.buildEndSessionUrl(refreshedConfig, { id_token_hint: before.id_token!, post_logout_redirect_uri: LOGOUT_REDIRECT_URI });
    const done = await browse(agent, logout.toString(), LOGOUT_REDIRECT_URI);
    expect(done.url.startsWith(LOGOUT_REDIRECT_URI)).to.equal(true);
  });
});
