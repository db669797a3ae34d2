import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { API, authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';

describe('tokens that carry what their readers need; PAR request_uri is one-time (openid-client)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let web: oidc.Configuration;
  let service: oidc.Configuration;

  before(async () => {
    deploy = await deployment('protocol_points');
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    service = await relyingParty(deploy.issuer, cast.service.clientId, cast.service.secret);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  const credentials = () => ({ username: cast.user.username, password: PASSWORD });

  async function userTokens(extra: Record<string, string> = {}) {
    const request = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid profile offline_access', ...extra });
    const outcome = await signIn(new UserAgent(), request.url.toString(), REDIRECT_URI, credentials());
    return oidc.authorizationCodeGrant(web, outcome.callback, request.checks);
  }

  it('puts sid in ID tokens (Back-Channel Logout 1.0 §2.1), for clients without a back-channel logout URI too, and keeps it across refresh', async () => {
    const discovery = web.serverMetadata();
    expect(discovery.backchannel_logout_session_supported).to.equal(true);
    const tokens = await userTokens();
    const sid = tokens.claims()!.sid;
    expect(sid).to.be.a('string').with.length.above(8);
    const refreshed = await oidc.refreshTokenGrant(web, tokens.refresh_token!);
    expect(refreshed.claims()!.sid).to.equal(sid);
  });

  it('answers introspection of a client_credentials JWT with sub (the client) and the JWT\'s jti', async () => {
    const issued = await oidc.clientCredentialsGrant(service, { resource: API, scope: 'read' });
    const introspected = await oidc.tokenIntrospection(service, issued.access_token);
    expect(introspected.active).to.equal(true);
    expect(introspected.sub).to.equal(cast.service.clientId);
    expect(introspected.jti).to.equal(decodeJwt(issued.access_token).jti);
    expect(introspected).not.to.have.property('username');
  });

  it('answers introspection of a user\'s JWT and opaque access tokens with sub, username and (JWT) jti', async () => {
    const jwt = await userTokens({ resource: API, scope: 'openid read offline_access' });
    const introspectedJwt = await oidc.tokenIntrospection(web, jwt.access_token);
    expect(introspectedJwt).to.include({ active: true, sub: cast.user.id, username: cast.user.username, jti: decodeJwt(jwt.access_token).jti });

    const opaque = await userTokens();
    const introspectedOpaque = await oidc.tokenIntrospection(web, opaque.access_token);
    expect(introspectedOpaque).to.include({ active: true, sub: cast.user.id, username: cast.user.username });
    expect(introspectedOpaque.jti, 'an id for the opaque token, not the token itself').to.be.a('string').with.length(43).and.not.equal(opaque.access_token);
    expect((await oidc.tokenIntrospection(web, opaque.access_token)).jti, 'stable').to.equal(introspectedOpaque.jti);

    const refresh = await oidc.tokenIntrospection(web, opaque.refresh_token!);
    expect(refresh).to.include({ active: true, sub: cast.user.id, username: cast.user.username });
    expect(refresh.jti).to.be.a('string').and.not.equal(opaque.refresh_token);
  });

  it('treats a pushed request_uri as one-time (RFC 9126): a second authorization request with it is refused', async () => {
    const { checks } = await authorizationRequest(web, REDIRECT_URI);
    const url = await oidc.buildAuthorizationUrlWithPAR(web, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
      code_challenge_method: 'S256',
      state: checks.expectedState,
      nonce: checks.expectedNonce,
    });
    const agent = new UserAgent();
    const first = await agent.request(url.toString());
    expect(first.status).to.equal(303);
    const again = await new UserAgent().request(url.toString());
    expect(again.status).to.equal(303);
    const refused = new URL(again.headers.get('location')!);
    expect(`${refused.origin}${refused.pathname}`, 'the error goes back to the app').to.equal(REDIRECT_URI);
    expect(refused.searchParams.get('error')).to.equal('invalid_request_uri');
    // The first request still completes.
    const outcome = await signIn(agent, new URL(first.headers.get('location')!, deploy.issuer).toString(), REDIRECT_URI, credentials());
    expect((await oidc.authorizationCodeGrant(web, outcome.callback, checks)).claims()!.sub).to.equal(cast.user.id);
    const afterwards = await agent.request(url.toString());
    expect(new URL(afterwards.headers.get('location')!).searchParams.get('error')).to.equal('invalid_request_uri');
  });
});
