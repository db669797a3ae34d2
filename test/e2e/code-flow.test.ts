import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { testClock } from '../helpers/clock.ts';
import {
  authorizationRequest,
  deployment,
  oauthError,
  PASSWORD,
  REDIRECT_URI,
  relyingParty,
  seed,
  SPA_REDIRECT_URI,
  type Deployment,
  type Seeded,
} from '../helpers/e2e.ts';

describe('authorization code + PKCE with openid-client (real stores)', () => {
  const clock = testClock();
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;

  before(async () => {
    // A window no busy machine outlasts between two requests; the test that needs it over moves the clock.
    deploy = await deployment('code_flow', { clock, settings: { GATEHOUSE_REFRESH_REUSE_WINDOW: '60' } });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  async function login(config: oidc.Configuration, redirectUri: string, agent = new UserAgent(), extra: Record<string, string> = {}) {
    const request = await authorizationRequest(config, redirectUri, extra);
    const outcome = await signIn(agent, request.url.toString(), redirectUri, { username: cast.user.username, password: PASSWORD });
    return { ...request, outcome, agent };
  }

  it('signs a user into a confidential app: verified ID token with profile claims, userinfo, rotating refresh tokens', async () => {
    const config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const { outcome, checks } = await login(config, REDIRECT_URI);
    expect(outcome.sawLogin).to.equal(true);
    expect(outcome.sawConsent, 'a third-party app asks for consent').to.equal(true);

    const tokens = await oidc.authorizationCodeGrant(config, outcome.callback, checks);
    const claims = tokens.claims()!;
    expect(claims.sub).to.equal(cast.user.id);
    expect(claims).to.include({ name: 'Alice Liddell', given_name: 'Alice', family_name: 'Liddell', email_verified: true });
    expect(claims.email).to.match(/@example\.com$/);
    expect(tokens.refresh_token, 'refresh tokens without offline_access, as Keycloak does').to.be.a('string');
    expect(tokens.expires_in).to.be.within(590, 600);

    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, cast.user.id);
    expect(userinfo).to.include({ sub: cast.user.id, preferred_username: cast.user.username, name: 'Alice Liddell' });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).to.be.a('string').and.not.equal(tokens.refresh_token);
    expect(refreshed.access_token).not.to.equal(tokens.access_token);
    expect((await oidc.fetchUserInfo(config, refreshed.access_token, cast.user.id)).sub).to.equal(cast.user.id);
  });

  it('accepts a rotated refresh token again inside the reuse window', async () => {
    const config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const { outcome, checks } = await login(config, REDIRECT_URI);
    const tokens = await oidc.authorizationCodeGrant(config, outcome.callback, checks);
    const [first, second] = await Promise.all([
      oidc.refreshTokenGrant(config, tokens.refresh_token!),
      oidc.refreshTokenGrant(config, tokens.refresh_token!),
    ]);
    expect(first.access_token).to.be.a('string');
    expect(second.access_token).to.be.a('string');
    expect((await oidc.refreshTokenGrant(config, second.refresh_token!)).access_token).to.be.a('string');
  });

  it('revokes the whole grant when a rotated refresh token is reused after the window', async () => {
    const config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const { outcome, checks } = await login(config, REDIRECT_URI);
    const tokens = await oidc.authorizationCodeGrant(config, outcome.callback, checks);
    const rotated = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    await clock.advance(61_000); // past the 60 s reuse window
    expect((await oauthError(oidc.refreshTokenGrant(config, tokens.refresh_token!))).error).to.equal('invalid_grant');
    expect((await oauthError(oidc.refreshTokenGrant(config, rotated.refresh_token!))).error, 'the new token dies with the grant').to.equal(
      'invalid_grant',
    );
    const introspected = await oidc.tokenIntrospection(config, rotated.access_token);
    expect(introspected.active).to.equal(false);
  });

  it('signs a user into a public first-party SPA with PKCE and no consent page; SSO then skips the password', async () => {
    const spa = await relyingParty(deploy.issuer, cast.spa.clientId);
    const agent = new UserAgent();
    const first = await login(spa, SPA_REDIRECT_URI, agent);
    expect(first.outcome.sawConsent).to.equal(false);
    const tokens = await oidc.authorizationCodeGrant(spa, first.outcome.callback, first.checks);
    expect(tokens.claims()!.sub).to.equal(cast.user.id);

    const web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const request = await authorizationRequest(web, REDIRECT_URI);
    const second = await signIn(agent, request.url.toString(), REDIRECT_URI, {});
    expect(second.sawLogin, 'the session cookie signs the user in').to.equal(false);
    expect((await oidc.authorizationCodeGrant(web, second.callback, request.checks)).claims()!.sub).to.equal(cast.user.id);
  });

  it('keeps the ID token minimal for clients that ask for it, with the claims still at userinfo', async () => {
    const created = await gatehouse.services.clients.create({
      displayName: 'Minimal',
      metadata: {
        redirect_uris: [REDIRECT_URI],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_post',
        minimal_id_token: true,
      },
    });
    const config = await relyingParty(deploy.issuer, created.client.clientId, created.secret, oidc.ClientSecretPost(created.secret));
    const { outcome, checks } = await login(config, REDIRECT_URI);
    const tokens = await oidc.authorizationCodeGrant(config, outcome.callback, checks);
    expect(tokens.claims()).not.to.have.property('name');
    expect(tokens.claims()).not.to.have.property('email');
    expect((await oidc.fetchUserInfo(config, tokens.access_token, cast.user.id)).name).to.equal('Alice Liddell');
  });

  it('issues the API\'s JWT when the app names the API as resource, with roles and groups', async () => {
    const config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const { outcome, checks } = await login(config, REDIRECT_URI, new UserAgent(), {
      resource: 'https://api.example.com',
      scope: 'openid profile read',
    });
    const tokens = await oidc.authorizationCodeGrant(config, outcome.callback, checks);
    const [, body] = tokens.access_token.split('.');
    const payload = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
    expect(payload).to.include({ aud: 'https://api.example.com', sub: cast.user.id, client_id: cast.web.clientId, scope: 'read' });
    expect(payload.roles).to.deep.equal(['editor']);
    expect(payload.groups).to.deep.equal(['wonderland']);
  });

  it('revoking an access token also revokes the refresh tokens of its grant, a rotated one included (RFC 7009 §2.1; README "Introspection and revocation")', async () => {
    const config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const { outcome, checks } = await login(config, REDIRECT_URI);
    const tokens = await oidc.authorizationCodeGrant(config, outcome.callback, checks);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    await oidc.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });
    expect((await oidc.tokenIntrospection(config, refreshed.access_token)).active, 'the newer access token of the grant').to.equal(false);
    expect((await oauthError(oidc.refreshTokenGrant(config, refreshed.refresh_token!))).error).to.equal('invalid_grant');
  });

  describe('negative paths answer with the standard errors', () => {
    it('wrong client secret → 401 invalid_client', async () => {
      const config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
      const { outcome, checks } = await login(config, REDIRECT_URI);
      const wrong = await relyingParty(deploy.issuer, cast.web.clientId, 'not-the-secret');
      const failure = await oauthError(oidc.authorizationCodeGrant(wrong, outcome.callback, checks));
      expect(failure).to.include({ error: 'invalid_client', status: 401 });
    });

    it('PKCE verifier mismatch → invalid_grant; public clients without PKCE are refused', async () => {
      const spa = await relyingParty(deploy.issuer, cast.spa.clientId);
      const { outcome, checks } = await login(spa, SPA_REDIRECT_URI);
      const failure = await oauthError(
        oidc.authorizationCodeGrant(spa, outcome.callback, { ...checks, pkceCodeVerifier: oidc.randomPKCECodeVerifier() }),
      );
      expect(failure.error).to.equal('invalid_grant');

      const noPkce = new URL(`${deploy.issuer}/auth`);
      noPkce.search = new URLSearchParams({ client_id: cast.spa.clientId, response_type: 'code', scope: 'openid', redirect_uri: SPA_REDIRECT_URI }).toString();
      const response = await fetch(noPkce, { redirect: 'manual' });
      const location = new URL(response.headers.get('location')!);
      expect(location.origin + location.pathname).to.equal(SPA_REDIRECT_URI);
      expect(location.searchParams.get('error')).to.equal('invalid_request');
      expect(location.searchParams.get('error_description')).to.match(/PKCE/);
    });

    it('a replayed authorization code → invalid_grant, and the first redemption\'s tokens are revoked', async () => {
      const config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
      const { outcome, checks } = await login(config, REDIRECT_URI);
      const tokens = await oidc.authorizationCodeGrant(config, outcome.callback, checks);
      expect((await oauthError(oidc.authorizationCodeGrant(config, outcome.callback, checks))).error).to.equal('invalid_grant');
      expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).to.equal(false);
      expect((await oauthError(oidc.refreshTokenGrant(config, tokens.refresh_token!))).error).to.equal('invalid_grant');
    });

    it('an unregistered redirect_uri gets an error page, never a redirect', async () => {
      const url = new URL(`${deploy.issuer}/auth`);
      url.search = new URLSearchParams({
        client_id: cast.web.clientId,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: 'https://evil.example.net/cb',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      }).toString();
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).to.equal(400);
      expect(response.headers.get('location')).to.equal(null);
      const html = await response.text();
      expect(html).to.include('redirect_uri');
      expect(html).not.to.match(/\bat .*\.js:\d+/);
    });
  });
});
