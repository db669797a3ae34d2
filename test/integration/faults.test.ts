import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, signIn, UserAgent } from '../helpers/browserless.ts';
import { API, authorizationRequest, FAST_HASHING, PASSWORD, REDIRECT_URI, relyingParty, seed, type Seeded } from '../helpers/e2e.ts';
import { TestFerret } from '../helpers/ferret.ts';
import { startInstance } from '../helpers/instance.ts';
import { eventually } from '../helpers/poll.ts';
import { freePort, TestRedis } from '../helpers/redis-server.ts';
import { databaseForSuite, randomSecret, serviceUrls } from '../helpers/stores.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

/**
 * How long a request may take to fail while a store is down. Store timeouts are 1 s here;
 * without them the drivers would wait 30 s (server selection) or forever (offline queue). The
 * rest is room for a busy machine: these are real-time driver timeouts, no clock seam moves them.
 */
const FAIL_FAST_MS = 15_000;

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await run();
  return { value, ms: Date.now() - started };
}

function tokenRequest(issuer: string, clientId: string, secret: string, form: Record<string, string>): Promise<Response> {
  return fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: clientSecretBasic(clientId, secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form).toString(),
  });
}

async function expectUnavailable(response: Response, ms: number): Promise<void> {
  expect(response.status, await response.clone().text()).to.equal(503);
  expect(ms, 'fails fast, within the configured store timeout').to.be.below(FAIL_FAST_MS);
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    const body = (await response.json()) as { error: string; error_description?: string };
    expect(body.error).to.equal('temporarily_unavailable');
    expect(body.error_description).to.be.a('string');
  }
}

async function start(mongodbUri: string, redisUrl: string | undefined, extra: Record<string, string> = {}): Promise<{ gatehouse: RunningGatehouse; issuer: string; cast: Seeded }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const gatehouse = await startInstance({
    mongodbUri,
    redisUrl,
    secret: randomSecret(),
    issuer,
    settings: { ...FAST_HASHING, PORT: String(port), GATEHOUSE_REDIS_TIMEOUT: '1', GATEHOUSE_MONGODB_TIMEOUT: '1', GATEHOUSE_CLIENT_CACHE_TTL: '60', ...extra },
  });
  return { gatehouse, issuer, cast: await seed(gatehouse) };
}

interface FerretEnv {
  ferret: TestFerret;
  gatehouse: RunningGatehouse;
  issuer: string;
  cast: Seeded;
}

/** A test-owned FerretDB and an instance on it, for the enclosing describe. */
function onTestFerret(label: string, redisUrl: () => string | undefined): FerretEnv {
  const env = {} as FerretEnv;
  before(async () => {
    env.ferret = await TestFerret.start();
    Object.assign(env, await start(env.ferret.uri(label), redisUrl()));
  });
  after(async () => {
    await env.gatehouse?.close();
    await env.ferret?.remove();
  });
  return env;
}

describe('faults: Redis goes away and comes back (test-owned redis-server)', () => {
  const database = databaseForSuite('faults_redis');
  let redis: TestRedis;
  let gatehouse: RunningGatehouse;
  let issuer: string;
  let cast: Seeded;

  before(async () => {
    redis = await TestRedis.start();
    ({ gatehouse, issuer, cast } = await start(database.uri, redis.url));
  });
  after(async () => {
    await gatehouse?.close();
    await redis?.stop();
  });

  it('answers 503 fast during a sign-in and at the token endpoint, then recovers without a restart', async () => {
    const web = await relyingParty(issuer, cast.web.clientId, cast.web.secret);
    const agent = new UserAgent();
    const { url } = await authorizationRequest(web, REDIRECT_URI);
    const interaction = new URL((await agent.request(url.toString())).headers.get('location')!, issuer).toString();
    const page = await agent.request(interaction);
    const login = formsOf(await page.text()).find((form) => form.action.endsWith('/login'))!;

    await redis.stop();
    const submitted = await timed(() =>
      agent.postForm(new URL(login.action, issuer).toString(), { ...login.fields, login: cast.user.username, password: PASSWORD }),
    );
    await expectUnavailable(submitted.value, submitted.ms);
    const reload = await timed(() => agent.request(interaction));
    await expectUnavailable(reload.value, reload.ms);
    const fresh = await authorizationRequest(web, REDIRECT_URI);
    const started = await timed(() => new UserAgent().request(fresh.url.toString()));
    // A new authorization cannot store its interaction: the app is told to retry (RFC 6749 §4.1.2.1).
    expect(started.value.status).to.equal(303);
    expect(started.value.headers.get('location')).to.match(/^https:\/\/app\.example\.com\/cb\?error=temporarily_unavailable&/);
    expect(started.ms).to.be.below(FAIL_FAST_MS);
    const opaque = await timed(() =>
      tokenRequest(issuer, cast.service.clientId, cast.service.secret, { grant_type: 'client_credentials', resource: `${API}/opaque`, scope: 'read' }),
    );
    await expectUnavailable(opaque.value, opaque.ms);
    expect((await fetch(`${issuer}/readyz`)).status).to.equal(503);
    expect((await fetch(`${issuer}/healthz`)).status).to.equal(200);

    await redis.start();
    const back = await eventually(
      () => tokenRequest(issuer, cast.service.clientId, cast.service.secret, { grant_type: 'client_credentials', resource: `${API}/opaque`, scope: 'read' }),
      (response) => response instanceof Response && response.status === 200,
    );
    expect((back as Response).status).to.equal(200);
    const again = await authorizationRequest(web, REDIRECT_URI);
    const outcome = await signIn(new UserAgent(), again.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    expect((await oidc.authorizationCodeGrant(web, outcome.callback, again.checks)).claims()!.sub).to.equal(cast.user.id);
    expect((await fetch(`${issuer}/readyz`)).status).to.equal(200);
  });
});

describe('faults: MongoDB goes away and comes back (test-owned FerretDB)', () => {
  const env = onTestFerret('faults', () => undefined);

  it('answers 503 fast for refreshes and sign-ins, keeps what was acknowledged, and recovers without a restart', async () => {
    const { ferret, issuer, cast } = env;
    const web = await relyingParty(issuer, cast.web.clientId, cast.web.secret);
    const first = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid offline_access', prompt: 'consent' });
    const agent = new UserAgent();
    const outcome = await signIn(agent, first.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(web, outcome.callback, first.checks);
    await ferret.stop();
    const refresh = await timed(() =>
      tokenRequest(issuer, cast.web.clientId, cast.web.secret, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
    );
    await expectUnavailable(refresh.value, refresh.ms);
    const second = await authorizationRequest(web, REDIRECT_URI);
    const authorize = await timed(() => new UserAgent().request(second.url.toString()));
    const location = authorize.value.headers.get('location') ?? '';
    if (authorize.value.status === 503) await expectUnavailable(authorize.value, authorize.ms);
    else expect(location, 'the app is told to retry').to.include('error=temporarily_unavailable');
    expect(authorize.ms).to.be.below(FAIL_FAST_MS);
    expect((await fetch(`${issuer}/readyz`)).status).to.equal(503);

    await ferret.start();
    const back = await eventually(
      () => tokenRequest(issuer, cast.web.clientId, cast.web.secret, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
      (response) => response instanceof Response && response.status === 200,
    );
    expect((back as Response).status, 'the refresh token issued before the outage still works').to.equal(200);
    const third = await authorizationRequest(web, REDIRECT_URI);
    const again = await signIn(agent, third.url.toString(), REDIRECT_URI, {});
    expect(again.sawLogin, 'the session survived the outage').to.equal(false);
    expect((await oidc.authorizationCodeGrant(web, again.callback, third.checks)).claims()!.sub).to.equal(cast.user.id);
  });
});

describe('faults: MongoDB goes away while Redis stays (test-owned FerretDB, shared Redis)', () => {
  const env = onTestFerret('faults_pages', () => serviceUrls().redisUrl);

  it('answers a sign-in submitted during the outage with the 503 page (the interaction lives in Redis, the user in MongoDB)', async () => {
    const { ferret, issuer, cast } = env;
    const web = await relyingParty(issuer, cast.web.clientId, cast.web.secret);
    const agent = new UserAgent();
    const request = await authorizationRequest(web, REDIRECT_URI);
    const interaction = new URL((await agent.request(request.url.toString())).headers.get('location')!, issuer).toString();
    const form = formsOf(await (await agent.request(interaction)).text()).find((candidate) => candidate.action.endsWith('/login'))!;

    await ferret.stop();
    const submitted = await timed(() =>
      agent.postForm(new URL(form.action, issuer).toString(), { ...form.fields, login: cast.user.username, password: PASSWORD }),
    );
    expect(submitted.value.status, 'the sign-in page answers 503, not 500').to.equal(503);
    expect(submitted.value.headers.get('content-type')).to.match(/^text\/html/);
    expect(submitted.value.headers.get('retry-after')).to.be.a('string');
    expect(submitted.ms).to.be.below(FAIL_FAST_MS);
    await ferret.start();
  });
});

describe('faults: both stores go away (test-owned FerretDB and redis-server, nothing cached)', () => {
  let ferret: TestFerret;
  let redis: TestRedis;
  let gatehouse: RunningGatehouse;
  let issuer: string;
  let cast: Seeded;

  before(async () => {
    ferret = await TestFerret.start();
    redis = await TestRedis.start();
    ({ gatehouse, issuer, cast } = await start(ferret.uri('faults_both'), redis.url, { GATEHOUSE_CLIENT_CACHE_TTL: '0' }));
  });
  after(async () => {
    await gatehouse?.close();
    await redis?.stop();
    await ferret?.remove();
  });

  it('answers a new authorization request with 503, never 500, when the client cannot be read', async () => {
    const web = await relyingParty(issuer, cast.web.clientId, cast.web.secret);
    const request = await authorizationRequest(web, REDIRECT_URI);
    await redis.stop();
    await ferret.stop();
    const authorize = await timed(() => new UserAgent().request(request.url.toString()));
    await expectUnavailable(authorize.value, authorize.ms);
    await ferret.start();
    await redis.start();
  });
});
