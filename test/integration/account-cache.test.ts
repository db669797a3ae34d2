import { expect } from 'chai';
import * as oidc from 'openid-client';
import { userModel } from '../../src/accounts/user-model.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { twoInstances } from '../helpers/two-instances.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';


/** Two instances on one deployment; the user signs in at the first, the second answers. */
async function pair(label: string, redis: boolean, ttlSeconds: number, clock: TestClock) {
  const instances = await twoInstances(label, { redis, clock, settings: { GATEHOUSE_ACCOUNT_CACHE_TTL: String(ttlSeconds) } });
  const { deploy, a: first, b: second } = instances;
  const cast = await seed(first);
  const config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
  const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid profile roles' });
  const outcome = await signIn(new UserAgent(), request.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
  const tokens = await oidc.authorizationCodeGrant(config, outcome.callback, request.checks);
  const metadata = config.serverMetadata();
  const at = (instance: RunningGatehouse, endpoint: string | undefined) => new URL(new URL(endpoint!).pathname, instance.url);
  const basic = clientSecretBasic(cast.web.clientId, cast.web.secret);
  return {
    deploy,
    first,
    second,
    cast,
    /** Userinfo (at the second instance unless told): status and body. */
    async userinfo(instance = second) {
      const response = await fetch(at(instance, metadata.userinfo_endpoint), { headers: { authorization: `Bearer ${tokens.access_token}` } });
      return { status: response.status, body: response.ok ? ((await response.json()) as Record<string, unknown>) : undefined };
    },
    /** Introspection of the same access token at the second instance. */
    async active() {
      const response = await fetch(at(second, metadata.introspection_endpoint), {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens.access_token }),
      });
      return ((await response.json()) as { active: boolean }).active;
    },
    close: () => instances.stop(),
  };
}

describe('account cache across instances (real stores)', () => {
  describe('with Redis (TTL 60 s on a frozen clock, so only the change notice can explain a cut-off)', () => {
    let p: Awaited<ReturnType<typeof pair>>;
    let deploy: Deployment;
    let cast: Seeded;
    before(async () => {
      p = await pair('account_cache', true, 60, testClock({ frozen: true }));
      ({ deploy, cast } = p);
    });
    after(() => p.close());

    it('serves the profile from the cache: a write that bypasses the services is not seen', async () => {
      expect((await p.userinfo()).body).to.include({ name: 'Alice Liddell' });
      const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
      try {
        await userModel(mongo).updateOne({ _id: cast.user.id }, { $set: { name: 'Behind The Cache' } }).exec();
        expect((await p.userinfo()).body).to.include({ name: 'Alice Liddell' });
      } finally {
        await mongo.close();
      }
    });

    it('a profile update at one instance shows at the other (change notice)', async () => {
      await p.first.services.users.update(cast.user.id, { name: 'Alice Updated' });
      await within(NOTICE_MS, async () => (await p.userinfo()).body?.name === 'Alice Updated');
      await p.first.services.roles.assign(cast.user.id, 'auditor');
      await within(NOTICE_MS, async () => ((await p.userinfo()).body?.roles as string[] | undefined)?.includes('auditor') === true);
      await p.first.services.roles.remove('auditor');
      await within(NOTICE_MS, async () => ((await p.userinfo()).body?.roles as string[] | undefined)?.includes('auditor') === false);
    });

    it('a user disabled at one instance is refused by the other (change notice): userinfo 401, introspection inactive', async () => {
      expect((await p.userinfo()).status).to.equal(200);
      expect(await p.active()).to.equal(true);
      // The account service alone: the token stays valid, so only the account lookup can refuse it.
      await p.first.services.accounts.disable(cast.user.id);
      await within(NOTICE_MS, async () => (await p.userinfo()).status === 401);
      await within(NOTICE_MS, async () => !(await p.active()));
      await p.first.services.accounts.enable(cast.user.id);
      await within(NOTICE_MS, async () => (await p.userinfo()).status === 200);
    });
  });

  describe('without Redis (TTL 60 s, on a clock the test moves)', () => {
    const clock = testClock({ frozen: true });
    let p: Awaited<ReturnType<typeof pair>>;
    before(async () => {
      p = await pair('account_cache_local', false, 60, clock);
    });
    after(() => p.close());

    it('a disabled user is refused by the other instance once the TTL ran out, and at once by the one that disabled them', async () => {
      expect((await p.userinfo(p.first)).status).to.equal(200);
      expect((await p.userinfo()).status).to.equal(200);
      await p.first.services.accounts.disable(p.cast.user.id);
      expect((await p.userinfo(p.first)).status).to.equal(401);
      expect((await p.userinfo()).status, 'cached at the other instance: no notice without Redis').to.equal(200);
      await clock.advance(59_000);
      expect((await p.userinfo()).status, 'still within the TTL').to.equal(200);
      await clock.advance(1_001);
      expect((await p.userinfo()).status).to.equal(401);
    });
  });
});
