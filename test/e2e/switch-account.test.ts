import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { browse, signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';

for (const redis of [true, false]) describe(`switching account at the sign-in page (openid-client, hosted pages; ${redis ? 'Redis + MongoDB' : 'MongoDB only'})`, () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let web: oidc.Configuration;
  let bob: { id: string; username: string };

  before(async () => {
    deploy = await deployment(redis ? 'switch_account' : 'switch_account_mongo', { redis });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const created = await gatehouse.services.accounts.createUser({ username: `bob${Date.now().toString(36)}`, password: PASSWORD, email: `bob${Date.now().toString(36)}@example.com`, emailVerified: true });
    bob = { id: created.id, username: created.username };
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('does not offer prompt=select_account: such a request goes back to the app as an OAuth error, never to an error page', async () => {
    const request = await authorizationRequest(web, REDIRECT_URI, { prompt: 'select_account' });
    const response = await new UserAgent().request(request.url.toString());
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).to.equal(REDIRECT_URI);
    expect(location.searchParams.get('error')).to.equal('invalid_request');
  });

  for (const prompt of ['login']) {
    it(`signs bob in with prompt=${prompt} while alice has a session (the library signs alice out on the way)`, async () => {
      const agent = new UserAgent();
      const first = await authorizationRequest(web, REDIRECT_URI);
      const alice = await signIn(agent, first.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
      expect((await oidc.authorizationCodeGrant(web, alice.callback, first.checks)).claims()!.sub).to.equal(cast.user.id);

      const second = await authorizationRequest(web, REDIRECT_URI, { prompt });
      const outcome = await browse(agent, second.url.toString(), REDIRECT_URI, { username: bob.username, password: PASSWORD });
      expect(outcome.html, 'ends at the app, not at an error page').to.equal('');
      expect(new URL(outcome.url).searchParams.get('error_description')).to.equal(null);
      const tokens = await oidc.authorizationCodeGrant(web, new URL(outcome.url), second.checks);
      expect(tokens.claims()!.sub).to.equal(bob.id);

      // The session is bob's now: a plain request signs in without a form.
      const third = await authorizationRequest(web, REDIRECT_URI);
      const silent = await signIn(agent, third.url.toString(), REDIRECT_URI, {});
      expect(silent.sawLogin).to.equal(false);
      expect((await oidc.authorizationCodeGrant(web, silent.callback, third.checks)).claims()!.sub).to.equal(bob.id);
    });
  }
});
