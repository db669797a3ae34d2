import { expect } from 'chai';
import type { Connection } from 'mongoose';
import type { Adapter } from 'oidc-provider';
import * as oidc from 'openid-client';
import { createSecretBox } from '../../src/crypto/secret-box.ts';
import { oidcRecordChangesChannel, openOidcStorage } from '../../src/oidc/storage.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { redisKeys } from '../../src/storage/oidc/redis-adapter.ts';
import { browse, signIn, UserAgent } from '../helpers/browserless.ts';
import {
  authorizationRequest,
  FAST_HASHING,
  LOGOUT_REDIRECT_URI,
  PASSWORD,
  REDIRECT_URI,
  relyingParty,
  seed,
  SPA_REDIRECT_URI,
  type Deployment,
  type Seeded,
} from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { twoInstances, type TwoInstances } from '../helpers/two-instances.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';


/** Another process on the same stores (like the CLI or a third instance): its own storage layer, caching nothing. */
async function elsewhere(deploy: Deployment): Promise<{ adapter: (model: string) => Adapter; mongo: Connection; close(): Promise<void> }> {
  const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
  const redis = deploy.redisUrl === undefined ? undefined : await connectRedis({ url: deploy.redisUrl, timeoutMs: 5000 });
  const storage = await openOidcStorage({
    mongo,
    redis,
    redisPrefix: deploy.settings.GATEHOUSE_REDIS_PREFIX!,
    reuseWindowSeconds: 0,
    clientCacheTtlSeconds: 0,
    sessionCacheTtlSeconds: 0,
    clientSecretBox: createSecretBox(deploy.secret, 'client-secrets'),
    logger: { warn: () => {} },
    // Like the CLI: it announces its writes and listens to nothing.
    background: false,
  });
  return {
    adapter: storage.adapter,
    mongo,
    async close() {
      await storage.close();
      if (redis !== undefined) await redis.quit();
      await mongo.close();
    },
  };
}

/** Session and Grant reads that reached MongoDB at this instance (its adapter operation metrics). */
async function durableReads(instance: RunningGatehouse): Promise<number> {
  const metric = instance.metrics.registry.getSingleMetric('gatehouse_storage_operation_duration_seconds');
  const { values } = await metric!.get();
  return (values as Array<(typeof values)[number] & { metricName?: string }>)
    .filter((v) => v.metricName?.endsWith('_count') && v.labels.store === 'mongodb')
    .filter((v) => ['Session', 'Grant'].includes(String(v.labels.model)) && ['find', 'findByUid'].includes(String(v.labels.operation)))
    .reduce((sum, v) => sum + v.value, 0);
}

function setup(label: string, settings: Record<string, string>, redis = true, clock: TestClock = testClock({ frozen: true })) {
  const state = {} as {
    instances: TwoInstances;
    deploy: Deployment;
    first: RunningGatehouse;
    second: RunningGatehouse;
    other: Awaited<ReturnType<typeof elsewhere>>;
    /**
     * find commands the two instances sent (their own connections, whatever the collection): not
     * the server's count (serverStatus), which another connection's reads would add to.
     */
    finds: number;
  };
  state.finds = 0;
  before(async () => {
    // Key-set polls (MongoDB reads) only at startup: the read counts below are this test's own.
    state.instances = await twoInstances(label, {
      redis,
      clock,
      settings: { GATEHOUSE_KEY_POLL_INTERVAL: '3600', ...settings },
      onStoreCommand: (store, command) => {
        if (store === 'mongodb' && command === 'find') state.finds += 1;
      },
    });
    ({ deploy: state.deploy, a: state.first, b: state.second } = state.instances);
    state.other = await elsewhere(state.deploy);
  });
  after(async () => {
    await state.other?.close();
    await state.instances?.stop();
  });
  return state;
}

/** A new user signs in to the web app at the first instance (the issuer); returns what the app holds. */
async function signedIn(state: ReturnType<typeof setup>, scope = 'openid profile') {
  const cast: Seeded = await seed(state.first);
  const web = await relyingParty(state.deploy.issuer, cast.web.clientId, cast.web.secret);
  const agent = new UserAgent();
  const request = await authorizationRequest(web, REDIRECT_URI, { scope });
  const outcome = await signIn(agent, request.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
  const tokens = await oidc.authorizationCodeGrant(web, outcome.callback, request.checks);
  return { cast, web, agent, tokens };
}

async function userinfo(instance: RunningGatehouse, accessToken: string) {
  const response = await fetch(new URL('/me', instance.url), { headers: { authorization: `Bearer ${accessToken}` } });
  return {
    status: response.status,
    error: /error="([^"]+)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1],
    body: response.ok ? ((await response.json()) as Record<string, unknown>) : undefined,
  };
}

describe('Session/Grant cache across instances (real stores)', () => {
  describe('with Redis (TTL 60 s on a frozen clock, so only a change notice explains an effect)', () => {
    const state = setup('session_cache', { GATEHOUSE_SESSION_CACHE_TTL: '60' });

    it('serves repeated userinfo and a refresh at the second instance without reading Session or Grant from MongoDB', async () => {
      const { cast, tokens } = await signedIn(state);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      const adapterBefore = await durableReads(state.second);
      const findsBefore = state.finds;
      for (let call = 0; call < 20; call += 1) expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      expect(await durableReads(state.second), 'Session/Grant finds at the second instance').to.equal(adapterBefore);
      // Uncached, these 20 calls cost 40 finds (grant + session binding).
      expect(state.finds - findsBefore, 'find commands the instances sent').to.equal(0);

      const refreshed = await fetch(new URL('/token', state.second.url), {
        method: 'POST',
        headers: {
          authorization: clientSecretBasic(cast.web.clientId, cast.web.secret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
      });
      expect(refreshed.status).to.equal(200);
      const { access_token: renewed } = (await refreshed.json()) as { access_token: string };
      expect((await userinfo(state.second, renewed)).status).to.equal(200);
      expect(await durableReads(state.second), 'a refresh reads the session and grant from the cache').to.equal(adapterBefore);
    });

    it('signing in to a second app at the first instance is honoured by the second at once (the session changed)', async () => {
      const { cast, agent, tokens } = await signedIn(state);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      // Same browser, same sign-in session: the session now also records the SPA's grant.
      const spa = await relyingParty(state.deploy.issuer, cast.spa.clientId);
      const request = await authorizationRequest(spa, SPA_REDIRECT_URI);
      const outcome = await signIn(agent, request.url.toString(), SPA_REDIRECT_URI);
      expect(outcome.sawLogin).to.equal(false);
      const spaTokens = await oidc.authorizationCodeGrant(spa, outcome.callback, request.checks);
      // A cached copy of the old session would fail the session binding (no grant for the SPA): 401.
      await within(NOTICE_MS, async () => (await userinfo(state.second, spaTokens.access_token)).status === 200);
    });

    it('consent to a wider scope at the first instance shows at the second at once (the grant changed)', async () => {
      const { cast, web, agent, tokens } = await signedIn(state, 'openid profile');
      const before = await userinfo(state.second, tokens.access_token);
      expect(before.body).to.not.have.property('email');
      const request = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid profile email' });
      const outcome = await signIn(agent, request.url.toString(), REDIRECT_URI);
      expect(outcome.sawConsent).to.equal(true);
      const wider = await oidc.authorizationCodeGrant(web, outcome.callback, request.checks);
      await within(NOTICE_MS, async () => (await userinfo(state.second, wider.access_token)).body?.email !== undefined);
      expect((await userinfo(state.second, wider.access_token)).body).to.include({ sub: cast.user.id });
    });

    it('a session ended by another process stops its tokens at the second instance at once, though the tokens remain', async () => {
      const { cast, tokens } = await signedIn(state);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      const session = await state.other.mongo.db!.collection('oidc_session').findOne({ accountId: cast.user.id });
      // Only the Session goes (by id, while the second instance cached it by uid): the access
      // token is still stored, so only the dropped cache entry can refuse it.
      await state.other.adapter('Session').destroy(String(session!._id));
      await within(NOTICE_MS, async () => (await userinfo(state.second, tokens.access_token)).status === 401);
      expect(await userinfo(state.second, tokens.access_token)).to.include({ status: 401, error: 'invalid_token' });
    });

    it('a grant deleted by another process stops its tokens at the second instance at once, though the tokens remain', async () => {
      const { cast, tokens } = await signedIn(state);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      const grant = await state.other.mongo.db!.collection('oidc_grant').findOne({ accountId: cast.user.id });
      await state.other.adapter('Grant').destroy(String(grant!._id));
      await within(NOTICE_MS, async () => (await userinfo(state.second, tokens.access_token)).status === 401);
      expect(await userinfo(state.second, tokens.access_token)).to.include({ status: 401, error: 'invalid_token' });
    });

    it('after RP-initiated logout at the first instance, the session-bound access token is refused at the second at once', async () => {
      const { web, agent, tokens } = await signedIn(state);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      const logout = oidc.buildEndSessionUrl(web, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGOUT_REDIRECT_URI });
      await browse(agent, logout.toString(), LOGOUT_REDIRECT_URI);
      expect(await userinfo(state.second, tokens.access_token)).to.include({ status: 401, error: 'invalid_token' });
    });

    it('revoking the grant at the first instance (admin service) refuses its tokens at the second at once', async () => {
      const { cast, tokens } = await signedIn(state);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      const [grant] = await state.first.services.revocation.listGrants(cast.user.id);
      expect(await state.first.services.revocation.revokeGrant(grant!.id, cast.user.id)).to.equal(true);
      expect(await userinfo(state.second, tokens.access_token)).to.include({ status: 401, error: 'invalid_token' });
    });

    it('the CLI announces the sessions and grants it revokes (gatehouse grants revoke --user)', async function () {
      this.timeout(60_000);
      const { cast, tokens } = await signedIn(state);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      const db = state.other.mongo.db!;
      const session = await db.collection('oidc_session').findOne({ accountId: cast.user.id });
      const grant = await db.collection('oidc_grant').findOne({ accountId: cast.user.id });
      const { deploy } = state;
      const listener = await connectRedis({ url: deploy.redisUrl!, timeoutMs: 5000 });
      const notices: unknown[] = [];
      listener.on('message', (_channel: string, message: string) => notices.push(JSON.parse(message)));
      await listener.subscribe(oidcRecordChangesChannel(deploy.settings.GATEHOUSE_REDIS_PREFIX!));
      try {
        const exit = await runCli(['grants', 'revoke', '--user', cast.user.id], {
          NODE_ENV: 'test',
          MONGODB_URI: deploy.mongodbUri,
          REDIS_URL: deploy.redisUrl!,
          GATEHOUSE_SECRET: deploy.secret,
          GATEHOUSE_ISSUER: deploy.issuer,
          GATEHOUSE_REDIS_PREFIX: deploy.settings.GATEHOUSE_REDIS_PREFIX!,
          ...FAST_HASHING,
        });
        expect(exit.code, exit.stderr).to.equal(0);
        await within(NOTICE_MS, async () => notices.length >= 2);
        expect(notices).to.deep.include({ model: 'Grant', keys: [`id:${String(grant!._id)}`] });
        expect(notices).to.deep.include({ model: 'Session', keys: [`id:${String(session!._id)}`] });
        expect(await userinfo(state.second, tokens.access_token)).to.include({ status: 401, error: 'invalid_token' });
      } finally {
        await listener.quit();
      }
    });
  });

  describe('without Redis (TTL 60 s: only the TTL bounds what another instance serves)', () => {
    const clock = testClock({ frozen: true });
    const state = setup('session_cache_local', { GATEHOUSE_SESSION_CACHE_TTL: '60' }, false, clock);

    it('a grant deleted elsewhere is still served by the second instance until its entry expires, then refused', async () => {
      const { cast, tokens } = await signedIn(state);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      const grant = await state.other.mongo.db!.collection('oidc_grant').findOne({ accountId: cast.user.id });
      await state.other.adapter('Grant').destroy(String(grant!._id));
      expect((await userinfo(state.second, tokens.access_token)).status, 'cached: no notice without Redis').to.equal(200);
      await clock.advance(59_000);
      expect((await userinfo(state.second, tokens.access_token)).status, 'still within the TTL').to.equal(200);
      await clock.advance(1_001);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(401);
    });
  });
});

/** Reads of a token model that reached Redis at this instance (its adapter operation metrics). */
async function tokenReads(instance: RunningGatehouse, model: string): Promise<number> {
  const metric = instance.metrics.registry.getSingleMetric('gatehouse_storage_operation_duration_seconds');
  const { values } = await metric!.get();
  return (values as Array<(typeof values)[number] & { metricName?: string }>)
    .filter((v) => v.metricName?.endsWith('_count') && v.labels.model === model && v.labels.operation === 'find')
    .reduce((sum, v) => sum + v.value, 0);
}

async function tokenRequest(instance: RunningGatehouse, client: { clientId: string; secret: string }, path: string, fields: Record<string, string>) {
  const response = await fetch(new URL(path, instance.url), {
    method: 'POST',
    headers: { authorization: clientSecretBasic(client.clientId, client.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
}

async function active(instance: RunningGatehouse, client: { clientId: string; secret: string }, token: string): Promise<boolean> {
  const { status, body } = await tokenRequest(instance, client, '/token/introspection', { token });
  expect(status).to.equal(200);
  return body.active === true;
}

describe('Access-token record cache across instances (real stores)', () => {
  describe('with Redis (TTL 60 s on a frozen clock, so only a change notice explains a refusal)', () => {
    // Strict rotation: a second use of a refresh token is reuse, which revokes the grant.
    const state = setup('token_cache', { GATEHOUSE_SESSION_CACHE_TTL: '60', GATEHOUSE_REFRESH_REUSE_WINDOW: '0' });

    it('serves repeated userinfo and introspection at the second instance without reading the access token from Redis', async () => {
      const { cast, tokens } = await signedIn(state);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      const before = await tokenReads(state.second, 'AccessToken');
      for (let call = 0; call < 10; call += 1) expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      expect(await active(state.second, cast.web, tokens.access_token)).to.equal(true);
      expect(await tokenReads(state.second, 'AccessToken'), 'AccessToken reads at the second instance').to.equal(before);
    });

    it('serves repeated introspection of an opaque client_credentials token without reading it from Redis', async () => {
      const cast = await seed(state.first);
      const { body } = await tokenRequest(state.first, cast.service, '/token', { grant_type: 'client_credentials', resource: 'https://api.example.com/opaque', scope: 'read' });
      const token = String(body.access_token);
      expect(token.split('.')).to.have.length(1);
      expect(await active(state.second, cast.service, token)).to.equal(true);
      const before = (await tokenReads(state.second, 'ClientCredentials')) + (await tokenReads(state.second, 'AccessToken'));
      for (let call = 0; call < 10; call += 1) expect(await active(state.second, cast.service, token)).to.equal(true);
      expect((await tokenReads(state.second, 'ClientCredentials')) + (await tokenReads(state.second, 'AccessToken')), 'token reads at the second instance').to.equal(before);
    });

    it('an access token revoked at the first instance (/token/revocation) is refused at the second at once', async () => {
      const { cast, tokens } = await signedIn(state);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      expect(await active(state.second, cast.web, tokens.access_token)).to.equal(true);
      expect((await tokenRequest(state.first, cast.web, '/token/revocation', { token: tokens.access_token, token_type_hint: 'access_token' })).status).to.equal(200);
      expect(await userinfo(state.second, tokens.access_token)).to.include({ status: 401, error: 'invalid_token' });
      expect(await active(state.second, cast.web, tokens.access_token)).to.equal(false);
    });

    it('tokens revoked by grant in another process, the grant itself kept, are refused at the second at once', async () => {
      const { cast, tokens } = await signedIn(state);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      const grant = await state.other.mongo.db!.collection('oidc_grant').findOne({ accountId: cast.user.id });
      // Only the tokens go: the Grant stays, so a cached Grant cannot explain the refusal.
      await state.other.adapter('AccessToken').revokeByGrantId(String(grant!._id));
      expect(await state.other.mongo.db!.collection('oidc_grant').countDocuments({ _id: grant!._id })).to.equal(1);
      expect(await userinfo(state.second, tokens.access_token)).to.include({ status: 401, error: 'invalid_token' });
      expect(await active(state.second, cast.web, tokens.access_token)).to.equal(false);
    });

    it('a refresh token reused at the first instance revokes the grant: its access tokens are refused at the second at once', async () => {
      const { cast, tokens } = await signedIn(state);
      const refresh = { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! };
      const rotated = await tokenRequest(state.first, cast.web, '/token', refresh);
      expect(rotated.status).to.equal(200);
      const renewed = String(rotated.body.access_token);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      expect((await userinfo(state.second, renewed)).status).to.equal(200);
      const reused = await tokenRequest(state.first, cast.web, '/token', refresh);
      expect(reused.body).to.include({ error: 'invalid_grant' });
      expect(await userinfo(state.second, tokens.access_token)).to.include({ status: 401, error: 'invalid_token' });
      expect(await userinfo(state.second, renewed)).to.include({ status: 401, error: 'invalid_token' });
    });

    it('disabling the user at the first instance refuses their access tokens at the second at once', async () => {
      const { cast, tokens } = await signedIn(state);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      expect(await active(state.second, cast.web, tokens.access_token)).to.equal(true);
      await state.first.services.accounts.disable(cast.user.id);
      await state.first.services.revocation.revokeByAccountId(cast.user.id);
      expect(await userinfo(state.second, tokens.access_token)).to.include({ status: 401, error: 'invalid_token' });
      expect(await active(state.second, cast.web, tokens.access_token)).to.equal(false);
    });

    it('revoking a client\'s tokens at the first instance (the client kept) makes its opaque client_credentials tokens inactive at the second at once', async () => {
      const cast = await seed(state.first);
      const { body } = await tokenRequest(state.first, cast.service, '/token', { grant_type: 'client_credentials', resource: 'https://api.example.com/opaque', scope: 'read' });
      const token = String(body.access_token);
      expect(await active(state.second, cast.service, token)).to.equal(true);
      const counts = await state.first.services.revocation.revokeByClientId(cast.service.clientId);
      expect(counts.tokens).to.be.at.least(1);
      expect(await active(state.second, cast.service, token)).to.equal(false);
    });

    it('revoking a client\'s tokens at the first instance (the client kept) makes its client_credentials JWTs inactive at both instances', async () => {
      const cast = await seed(state.first);
      const { body } = await tokenRequest(state.first, cast.service, '/token', { grant_type: 'client_credentials', resource: 'https://api.example.com', scope: 'read' });
      const token = String(body.access_token);
      expect(token.split('.'), 'a JWT').to.have.length(3);
      // Introspected (derived, cached) at the first instance only before the revocation.
      expect(await active(state.first, cast.service, token)).to.equal(true);
      await state.first.services.revocation.revokeByClientId(cast.service.clientId);
      expect(await active(state.first, cast.service, token), 'at the revoking instance').to.equal(false);
      // Nothing of a client_credentials JWT is stored but the record introspection derives from
      // the signed claims: an instance that has not derived it yet (or restarted) derives it again.
      expect(await active(state.second, cast.service, token), 'at an instance that had not seen it').to.equal(false);
    });

    it('after its change subscriber reconnects, the second instance forgets what it cached (notices may have been missed meanwhile)', async () => {
      const { cast, tokens } = await signedIn(state);
      expect(tokens.access_token.split('.'), 'an opaque token').to.have.length(1);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      const redis = await connectRedis({ url: state.deploy.redisUrl!, timeoutMs: 5000 });
      try {
        // Gone from Redis without a notice, as if its notice was published while the subscriber was away.
        await redis.del(redisKeys(state.deploy.settings.GATEHOUSE_REDIS_PREFIX!).record('AccessToken', tokens.access_token));
        expect((await userinfo(state.second, tokens.access_token)).status, 'served from the cache: no notice came').to.equal(200);
        expect(await active(state.second, cast.web, tokens.access_token), 'introspection, from the cache too').to.equal(true);
        await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
        await within(NOTICE_MS, async () => (await userinfo(state.second, tokens.access_token)).status === 401);
        expect(await active(state.second, cast.web, tokens.access_token)).to.equal(false);
        // While it resubscribes nothing is served from memory; once back it caches again (the
        // tests after this one count on it).
        const again = await signedIn(state);
        await within(NOTICE_MS, async () => {
          await userinfo(state.second, again.tokens.access_token);
          const reads = await tokenReads(state.second, 'AccessToken');
          await userinfo(state.second, again.tokens.access_token);
          return (await tokenReads(state.second, 'AccessToken')) === reads;
        });
      } finally {
        await redis.quit();
      }
    });

    it('an opaque client_credentials token revoked at the first instance (/token/revocation) is inactive at the second at once', async () => {
      const cast = await seed(state.first);
      const { body } = await tokenRequest(state.first, cast.service, '/token', { grant_type: 'client_credentials', resource: 'https://api.example.com/opaque', scope: 'read' });
      const token = String(body.access_token);
      expect(await active(state.second, cast.service, token)).to.equal(true);
      expect((await tokenRequest(state.first, cast.service, '/token/revocation', { token })).status).to.equal(200);
      // The first instance answers only once Redis has handed the notice to the second's
      // subscriber connection (change-channel.ts; test/integration/change-notices.test.ts holds
      // it back on purpose): no waiting here.
      expect(await active(state.second, cast.service, token)).to.equal(false);
    });

    it('introspects a client_credentials JWT again at the second instance without a Redis read; revoked at the first, it is inactive there at once', async () => {
      const cast = await seed(state.first);
      const { body } = await tokenRequest(state.first, cast.service, '/token', { grant_type: 'client_credentials', resource: 'https://api.example.com', scope: 'read' });
      const token = String(body.access_token);
      expect(token.split('.')).to.have.length(3);
      expect(await active(state.second, cast.service, token)).to.equal(true);
      expect(await active(state.second, cast.service, token)).to.equal(true);
      const before = (await tokenReads(state.second, 'ClientCredentials')) + (await tokenReads(state.second, 'AccessToken'));
      for (let call = 0; call < 10; call += 1) expect(await active(state.second, cast.service, token)).to.equal(true);
      // Neither the derived record nor the absence of a revocation tombstone is read again.
      expect((await tokenReads(state.second, 'ClientCredentials')) + (await tokenReads(state.second, 'AccessToken')), 'token reads at the second instance').to.equal(before);
      expect((await tokenRequest(state.first, cast.service, '/token/revocation', { token })).status).to.equal(200);
      expect(await active(state.second, cast.service, token)).to.equal(false);
      expect(await active(state.first, cast.service, token)).to.equal(false);
    });
  });

  describe('without Redis (TTL 60 s: only the TTL bounds what another instance serves)', () => {
    const clock = testClock({ frozen: true });
    const state = setup('token_cache_local', { GATEHOUSE_SESSION_CACHE_TTL: '60' }, false, clock);

    it('an access token deleted elsewhere is still served by the second instance until its entry expires, then refused', async () => {
      const { tokens, cast } = await signedIn(state);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(200);
      const grant = await state.other.mongo.db!.collection('oidc_grant').findOne({ accountId: cast.user.id });
      await state.other.adapter('AccessToken').revokeByGrantId(String(grant!._id));
      expect((await userinfo(state.second, tokens.access_token)).status, 'cached: no notice without Redis').to.equal(200);
      await clock.advance(60_001);
      expect((await userinfo(state.second, tokens.access_token)).status).to.equal(401);
    });
  });
});
