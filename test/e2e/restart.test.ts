import { expect } from 'chai';
import * as oidc from 'openid-client';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { twoInstances, type TwoInstances } from '../helpers/two-instances.ts';

for (const redis of [true, false]) {
  describe(`restarts and several instances (${redis ? 'MongoDB + Redis' : 'MongoDB only'})`, () => {
    let instances: TwoInstances;
    let deploy: Deployment;
    let cast: Seeded;

    before(async () => {
      instances = await twoInstances(redis ? 'restart_redis' : 'restart_mongo', { redis });
      ({ deploy } = instances);
      cast = await seed(instances.a);
    });
    after(() => instances?.stop());

    it('keeps the session, the refresh token and the grant across a real restart', async function () {
      // A Gatehouse stopped and started again in the test (≈ 2 CPU-s): past mocha's 30 s at load 45–50 on the shared 2 cores.
      this.timeout(120_000);
      const web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
      const agent = new UserAgent();
      const first = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid profile offline_access', prompt: 'consent' });
      const outcome = await signIn(agent, first.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
      const tokens = await oidc.authorizationCodeGrant(web, outcome.callback, first.checks);

      await instances.restart();

      const refreshed = await oidc.refreshTokenGrant(web, tokens.refresh_token!);
      expect(refreshed.access_token).to.be.a('string');
      const again = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid profile' });
      const second = await signIn(agent, again.url.toString(), REDIRECT_URI, {});
      expect(second.sawLogin, 'the session cookie still signs the user in').to.equal(false);
      expect(second.sawConsent, 'the grant is remembered').to.equal(false);
      expect((await oidc.authorizationCodeGrant(web, second.callback, again.checks)).claims()!.sub).to.equal(cast.user.id);
    });

    it('redeems at instance B a code issued by instance A, and B sees A\'s revocations', async () => {
      const { b } = instances;
      const web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
      const atB = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
      const bPort = new URL(b.url).port;
      atB[oidc.customFetch] = (url, options) => {
        const target = new URL(url);
        target.port = bPort;
        return fetch(target, options as RequestInit);
      };
      const { url, checks } = await authorizationRequest(web, REDIRECT_URI);
      const outcome = await signIn(new UserAgent(), url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
      const tokens = await oidc.authorizationCodeGrant(atB, outcome.callback, checks);
      expect(tokens.claims()!.sub).to.equal(cast.user.id);
      expect((await oidc.fetchUserInfo(atB, tokens.access_token, cast.user.id)).sub).to.equal(cast.user.id);

      // No token_type_hint: every kind is still found (Gatehouse tries access tokens first).
      expect(await oidc.tokenIntrospection(atB, tokens.refresh_token!)).to.include({ active: true, sub: cast.user.id });
      expect((await oidc.tokenIntrospection(atB, tokens.refresh_token!, { token_type_hint: 'access_token' })).active, 'a wrong hint too').to.equal(true);
      await oidc.tokenRevocation(web, tokens.refresh_token!);
      expect((await oidc.tokenIntrospection(atB, tokens.refresh_token!)).active).to.equal(false);
      expect((await oidc.tokenIntrospection(atB, tokens.access_token)).active, 'revoking the refresh token revoked the grant').to.equal(false);
    });
  });
}
