import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { browse, signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, LOGOUT_REDIRECT_URI, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';

/**
 * `offline_access` as Keycloak grants it: a first-party client (the operator vouches for it, as
 * for a Keycloak client without "consent required") that asks for the scope gets a refresh
 * token that outlives the sign-in session — without `prompt=consent`, which oidc-provider
 * otherwise requires (OIDC Core §11) and drops the scope without. Third-party clients still
 * need the user's consent for it; `prompt=none` keeps it only where the user's grant already has
 * it. openid-client as the app; the pages through a browserless user agent.
 */
describe('offline_access for first-party clients without prompt=consent (openid-client, real stores)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let firstParty: oidc.Configuration;
  let thirdParty: oidc.Configuration;

  before(async function () {
    // A Gatehouse started and seeded on fresh stores: past mocha's 30 s at load 45-50 (qa26; 1.7 CPU-s of it its own).
    this.timeout(120_000);
    deploy = await deployment('offline_access');
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    const created = await gatehouse.services.clients.create({
      displayName: 'First-party offline',
      firstParty: true,
      metadata: {
        redirect_uris: [REDIRECT_URI],
        post_logout_redirect_uris: [LOGOUT_REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile offline_access',
      },
    });
    firstParty = await relyingParty(deploy.issuer, created.client.clientId, created.secret);
    // The seeded web app: third-party, allowed offline_access.
    thirdParty = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
  });

  async function login(config: oidc.Configuration, agent: UserAgent, extra: Record<string, string>) {
    const request = await authorizationRequest(config, REDIRECT_URI, extra);
    const outcome = await signIn(agent, request.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    return { outcome, tokens: await oidc.authorizationCodeGrant(config, outcome.callback, request.checks) };
  }

  async function signOut(config: oidc.Configuration, agent: UserAgent, idToken: string) {
    const logout = oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: LOGOUT_REDIRECT_URI });
    await browse(agent, logout.toString(), LOGOUT_REDIRECT_URI);
  }

  it('a first-party client that asks for offline_access gets it without prompt=consent: its refresh token outlives the session, no consent page', async () => {
    const agent = new UserAgent();
    const { outcome, tokens } = await login(firstParty, agent, { scope: 'openid profile offline_access' });
    expect(outcome.sawConsent).to.equal(false);
    expect(tokens.scope?.split(' '), 'granted without prompt=consent').to.include('offline_access');
    await signOut(firstParty, agent, tokens.id_token!);
    const refreshed = await oidc.refreshTokenGrant(firstParty, tokens.refresh_token!);
    expect(refreshed.access_token, 'the refresh token outlives the session').to.be.a('string');
    expect(refreshed.scope?.split(' ')).to.include('offline_access');
  });

  it('shows a first-party app no consent page for prompt=consent either (as Keycloak without "consent required"); a third-party app is asked again', async () => {
    const agent = new UserAgent();
    const { outcome, tokens } = await login(firstParty, agent, { scope: 'openid profile offline_access', prompt: 'consent' });
    expect(outcome.sawConsent, 'first-party: no consent page, even for prompt=consent').to.equal(false);
    expect(tokens.scope?.split(' ')).to.include('offline_access');
    await signOut(firstParty, agent, tokens.id_token!);
    expect((await oidc.refreshTokenGrant(firstParty, tokens.refresh_token!)).access_token, 'offline_access outlives the session').to.be.a('string');

    const webAgent = new UserAgent();
    await login(thirdParty, webAgent, { scope: 'openid' });
    const again = await authorizationRequest(thirdParty, REDIRECT_URI, { prompt: 'consent' });
    expect((await signIn(webAgent, again.url.toString(), REDIRECT_URI, {})).sawConsent, 'third-party: prompt=consent asks again').to.equal(true);
  });

  it('without offline_access, a first-party client\'s refresh token still ends with the session', async () => {
    const agent = new UserAgent();
    const { tokens } = await login(firstParty, agent, { scope: 'openid profile' });
    expect(tokens.scope?.split(' ')).to.not.include('offline_access');
    await signOut(firstParty, agent, tokens.id_token!);
    const refused = await oidc.refreshTokenGrant(firstParty, tokens.refresh_token!).then(
      () => undefined,
      (error: unknown) => (error as { error?: string }).error,
    );
    expect(refused).to.equal('invalid_grant');
  });

  it('through PAR as well (the pushed request keeps the scope)', async () => {
    const agent = new UserAgent();
    const checks = { code_verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
    const url = await oidc.buildAuthorizationUrlWithPAR(firstParty, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.code_verifier),
      code_challenge_method: 'S256',
      state: checks.state,
      nonce: checks.nonce,
    });
    const outcome = await signIn(agent, url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(firstParty, outcome.callback, { pkceCodeVerifier: checks.code_verifier, expectedState: checks.state, expectedNonce: checks.nonce });
    expect(tokens.scope?.split(' ')).to.include('offline_access');
  });

  it('prompt=none keeps offline_access only where the user\'s grant already has it (a silent request never starts offline access)', async () => {
    const agent = new UserAgent();
    // Signed in without offline access: a silent request asking for it does not get it (and is no error).
    const plain = await login(firstParty, agent, { scope: 'openid profile' });
    expect(plain.tokens.scope?.split(' ')).to.not.include('offline_access');
    const silent = await login(firstParty, agent, { scope: 'openid profile offline_access', prompt: 'none' });
    expect(silent.outcome.sawLogin).to.equal(false);
    expect(silent.tokens.scope?.split(' ')).to.not.include('offline_access');
    // Once granted in an interactive request, a silent one keeps it.
    const granted = await login(firstParty, agent, { scope: 'openid profile offline_access' });
    expect(granted.tokens.scope?.split(' ')).to.include('offline_access');
    const again = await login(firstParty, agent, { scope: 'openid profile offline_access', prompt: 'none' });
    expect(again.outcome.sawLogin).to.equal(false);
    expect(again.tokens.scope?.split(' ')).to.include('offline_access');
  });

  it('a third-party client still needs consent: without prompt=consent the scope is dropped; with it the consent page asks', async () => {
    const agent = new UserAgent();
    // Whether the consent page shows depends on what the user allowed this app before (remembered: README, Consent).
    const dropped = await login(thirdParty, agent, { scope: 'openid offline_access' });
    expect(dropped.tokens.scope?.split(' ')).to.not.include('offline_access');
    const asked = await login(thirdParty, agent, { scope: 'openid offline_access', prompt: 'consent' });
    expect(asked.outcome.sawConsent).to.equal(true);
    expect(asked.tokens.scope?.split(' ')).to.include('offline_access');
  });

  it('a first-party client whose registered scope leaves offline_access out does not get it (dropped, no error)', async () => {
    const created = await gatehouse.services.clients.create({
      displayName: 'First-party online only',
      firstParty: true,
      metadata: { redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile' },
    });
    const online = await relyingParty(deploy.issuer, created.client.clientId, created.secret);
    const { tokens } = await login(online, new UserAgent(), { scope: 'openid offline_access' });
    expect(tokens.scope?.split(' ')).to.not.include('offline_access');
  });
});
