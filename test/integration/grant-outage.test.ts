import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { API, FAST_HASHING, PASSWORD, seed, type Seeded } from '../helpers/e2e.ts';
import { TestFerret } from '../helpers/ferret.ts';
import { startInstance } from '../helpers/instance.ts';
import { freePort, TestRedis } from '../helpers/redis-server.ts';
import { randomSecret } from '../helpers/stores.ts';
import { within } from '../helpers/poll.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const ORDERS = 'https://orders.example.com';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

interface Client {
  readonly clientId: string;
  readonly secret: string;
}

function tokenRequest(issuer: string, client: Client, form: Record<string, string>): Promise<Response> {
  return fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: clientSecretBasic(client.clientId, client.secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form).toString(),
  });
}

async function expectUnavailable(response: Response, what: string): Promise<void> {
  expect(response.status, `${what}: ${await response.clone().text()}`).to.equal(503);
  expect(response.headers.get('retry-after'), `${what}: Retry-After`).to.match(/^\d+$/);
  expect(response.headers.get('content-type'), what).to.match(/json/);
  const body = (await response.json()) as { error: string; error_description?: string };
  expect(body.error, what).to.equal('temporarily_unavailable');
  expect(body.error_description, what).to.be.a('string').and.not.equal('');
}

/**
 * The password grant and token exchange while a store is down: the caller is told to come back
 * (503 temporarily_unavailable + Retry-After, JSON), never a 500 or a misleading invalid_grant,
 * and both work again once the store is back, without a restart.
 */
describe('password grant, token exchange and refresh during a store outage (test-owned Redis and FerretDB)', () => {
  let ferret: TestFerret;
  let redis: TestRedis;
  let gatehouse: RunningGatehouse;
  let issuer: string;
  let cast: Seeded;
  let gateway: Client;
  let exchanger: Client;

  const signIn = () => tokenRequest(issuer, gateway, { grant_type: 'password', username: cast.user.username, password: PASSWORD, scope: 'read', resource: API });
  const exchange = (subject: string) => tokenRequest(issuer, exchanger, { grant_type: EXCHANGE, subject_token: subject, subject_token_type: ACCESS_TOKEN, resource: ORDERS });
  const subjectToken = async () => {
    const response = await signIn();
    expect(response.status, await response.clone().text()).to.equal(200);
    return ((await response.json()) as { access_token: string }).access_token;
  };

  before(async () => {
    ferret = await TestFerret.start();
    redis = await TestRedis.start();
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    gatehouse = await startInstance({
      mongodbUri: ferret.uri('grant_outage'),
      redisUrl: redis.url,
      secret: randomSecret(),
      issuer,
      // Store timeouts of 1 s: the outage answers come fast. Clients are cached briefly only,
      // so the grants themselves (not just client authentication) meet the missing store.
      settings: { ...FAST_HASHING, PORT: String(port), GATEHOUSE_REDIS_TIMEOUT: '1', GATEHOUSE_MONGODB_TIMEOUT: '1', GATEHOUSE_CLIENT_CACHE_TTL: '60' },
    });
    cast = await seed(gatehouse);
    const { clients, apis } = gatehouse.services;
    await apis.create({ identifier: ORDERS, scopes: ['read'] });
    const gw = await clients.create({
      displayName: 'Gateway',
      firstParty: true,
      allowedApis: [API],
      metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true },
    });
    gateway = { clientId: gw.client.clientId, secret: gw.secret! };
    const ex = await clients.create({
      displayName: 'Exchanger',
      allowedApis: [ORDERS],
      metadata: {
        redirect_uris: [],
        response_types: [],
        grant_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
        token_exchange: { apis: [ORDERS], trusted_clients: [gateway.clientId] },
      },
    });
    exchanger = { clientId: ex.client.clientId, secret: ex.secret! };
  });
  after(async () => {
    await gatehouse?.close();
    await redis?.stop();
    await ferret?.remove();
  });

  it('Redis down: both grants (and the refresh grant the gateway relies on) answer 503 + Retry-After, then work again', async () => {
    const first = (await (await signIn()).json()) as { access_token: string; refresh_token: string };
    const subject = first.access_token;
    expect((await exchange(subject)).status, 'before the outage').to.equal(200);
    await redis.stop();
    try {
      await expectUnavailable(await signIn(), 'password grant');
      await expectUnavailable(await exchange(subject), 'token exchange');
      await expectUnavailable(await tokenRequest(issuer, gateway, { grant_type: 'refresh_token', refresh_token: first.refresh_token }), 'refresh grant');
    } finally {
      await redis.start();
    }
    await within(15_000, async () => (await signIn()).status === 200);
    expect((await exchange(await subjectToken())).status, 'after the outage').to.equal(200);
  });

  it('MongoDB down: both grants answer 503 + Retry-After, then work again', async () => {
    const subject = await subjectToken();
    await ferret.stop();
    try {
      await expectUnavailable(await signIn(), 'password grant');
      await expectUnavailable(await exchange(subject), 'token exchange');
    } finally {
      await ferret.start();
    }
    await within(15_000, async () => (await signIn()).status === 200);
    expect((await exchange(subject)).status, 'the subject token from before the outage').to.equal(200);
  });
});
