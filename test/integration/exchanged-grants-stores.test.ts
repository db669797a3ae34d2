import { expect } from 'chai';
import type { Connection } from 'mongoose';
import type { RunningGatehouse } from '../../src/server.ts';
import { sessionOperations } from '../../src/operations/sessions.ts';
import { userOperations } from '../../src/operations/users.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { collectionName } from '../../src/storage/oidc/models.ts';
import { basicAuthTokenRequest, deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { faultyLink, type FaultyLink } from '../helpers/faulty-link.ts';
import { startInstance } from '../helpers/instance.ts';
import { freePort } from '../helpers/redis-server.ts';

const APP_API = 'https://app-api.example.com';
const ORDERS = 'https://orders.example.com';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const ctx = { actor: { type: 'cli' as const, id: 'test' } };

interface Client {
  readonly clientId: string;
  readonly secret: string;
}

/**
 * The cast of a token exchange (RFC 8693): an app the user signs in to (password grant, for
 * brevity) and a service trusted to exchange the app's tokens for tokens to Orders.
 */
async function cast(gatehouse: RunningGatehouse): Promise<{ app: Client; caller: Client }> {
  const { apis, clients } = gatehouse.services;
  await apis.create({ identifier: APP_API, name: 'App API', scopes: ['read'] });
  await apis.create({ identifier: ORDERS, name: 'Orders', scopes: ['read'] });
  const confidential = { redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' };
  const app = await clients.create({ displayName: 'App', firstParty: true, allowedApis: [APP_API], metadata: { ...confidential, grant_types: ['refresh_token'], allow_password_grant: true } });
  const caller = await clients.create({
    displayName: 'Orders caller',
    firstParty: true,
    allowedApis: [ORDERS],
    metadata: { ...confidential, grant_types: ['client_credentials'], token_exchange: { apis: [ORDERS], trusted_clients: [app.client.clientId] } },
  });
  return { app: { clientId: app.client.clientId, secret: app.secret! }, caller: { clientId: caller.client.clientId, secret: caller.secret! } };
}

/** The stores as they are, read past every instance (and its caches). */
function storedGrants(mongo: Connection) {
  const grants = () => mongo.collection<{ _id: string }>(collectionName('Grant'));
  return {
    /** The ids of the grant and of every grant exchanged from it. */
    async from(grantId: string): Promise<string[]> {
      return (await grants().find({}, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id).filter((id) => id === grantId || id.startsWith(`${grantId}~x~`)).sort();
    },
    async ofUser(accountId: string): Promise<string[]> {
      return (await grants().find({ accountId } as never, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id).sort();
    },
  };
}

describe('exchanged grants on real stores: a removal cut short, the cost of removing a user\'s grants', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let link: FaultyLink;
  let gatehouse: RunningGatehouse;
  let mongo: Connection;
  let app: Client;
  let caller: Client;
  /** `command collection` of every MongoDB command the instance sends while counting. */
  let counted: string[] | undefined;
  /** `command` of every Redis command the instance sends while counting. */
  let countedRedis: string[] | undefined;

  before(async () => {
    deploy = await deployment('exchanged_grants_stores');
    // The instance reaches MongoDB through a link that can lose a reply on purpose (a real network fault for the driver).
    link = await faultyLink(deploy.mongodbUri);
    gatehouse = await startInstance({
      mongodbUri: link.uri,
      redisUrl: deploy.redisUrl,
      secret: deploy.secret,
      issuer: deploy.issuer,
      settings: { ...deploy.settings, PORT: new URL(deploy.issuer).port },
      onStoreCommand: (store, command, target) => {
        if (store === 'mongodb') counted?.push(`${command} ${target}`);
        else countedRedis?.push(command);
      },
    });
    ({ app, caller } = await cast(gatehouse));
    mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
  });
  after(async () => {
    await mongo?.close();
    await gatehouse?.close();
    await link?.close();
    await deploy?.drop();
  });

  async function newUser(name: string): Promise<string> {
    return (await gatehouse.services.accounts.createUser({ username: `${name}-${Math.random().toString(36).slice(2, 8)}`, password: PASSWORD })).id;
  }
  async function signIn(userId: string): Promise<string> {
    const user = (await gatehouse.services.accounts.findById(userId))!;
    const { status, body } = await basicAuthTokenRequest(deploy.issuer, app, { grant_type: 'password', username: user.username, password: PASSWORD, scope: 'openid', resource: APP_API });
    expect(status, JSON.stringify(body)).to.equal(200);
    return body.access_token!;
  }
  async function exchange(subject: string) {
    return basicAuthTokenRequest(deploy.issuer, caller, { grant_type: EXCHANGE, subject_token: subject, subject_token_type: ACCESS_TOKEN, resource: ORDERS, scope: 'read' });
  }
  const grantOf = async (userId: string) => (await gatehouse.services.revocation.listGrants(userId)).find((grant) => grant.clientId === app.clientId)!.id;

  // The first store write of each step of the removal naming the grant: committed, its reply lost.
  const faults: Array<[string, (grantId: string) => string[]]> = [
    ["an exchanged grant's tokens", (grantId) => ['delete', `${grantId}~x~`]],
    ['an exchanged grant', (grantId) => ['delete', collectionName('Grant'), `${grantId}~x~`]],
    // BSON strings end in a NUL: the original's own id, not an exchanged one that starts with it.
    ['the original grant', (grantId) => ['delete', collectionName('Grant'), `${grantId}\0`]],
  ];
  for (const [step, markers] of faults) {
    it(`a removal cut short by a store failure at ${step} leaves the original with what is left of its exchanges, which a retry removes — never exchanged grants without it`, async () => {
      const userId = await newUser('cut-short');
      const subject = await signIn(userId);
      for (let i = 0; i < 2; i += 1) expect((await exchange(subject)).status).to.equal(200);
      const original = await grantOf(userId);
      const stored = storedGrants(mongo);
      expect(await stored.from(original)).to.have.length(3);

      link.dropNextReply(...markers(original));
      const failed = await sessionOperations(gatehouse.services).revokeGrant(ctx, original, userId).then(() => undefined, (error: unknown) => error);
      expect(link.dropped, 'the fault happened').to.equal(true);
      expect(failed, 'the removal failed').to.be.instanceOf(Error);

      const left = await stored.from(original);
      expect(left.length === 0 || left.includes(original), `the exchanged grants left stand on their original (${left.join(', ')})`).to.equal(true);
      // The user (account page) or the operator tries again: it finishes.
      if (left.includes(original)) await sessionOperations(gatehouse.services).revokeGrant(ctx, original, userId);
      expect(await stored.from(original)).to.deep.equal([]);
    });
  }

  it('removing one grant (account page, admin API, CLI) reads the Grant collection twice: the grant with its exchanges, and once more for an exchange made meanwhile', async () => {
    const userId = await newUser('one');
    const subject = await signIn(userId);
    for (let i = 0; i < 2; i += 1) expect((await exchange(subject)).status).to.equal(200);
    const original = await grantOf(userId);
    const stored = storedGrants(mongo);
    expect(await stored.from(original)).to.have.length(3);
    await gatehouse.flushBatchedWrites();

    counted = [];
    countedRedis = [];
    let mongoCommands: string[];
    let redisCommands: string[];
    try {
      await sessionOperations(gatehouse.services).revokeGrant(ctx, original, userId);
    } finally {
      mongoCommands = counted.filter((entry) => entry !== 'insert audit_events');
      redisCommands = countedRedis;
      counted = undefined;
      countedRedis = undefined;
    }
    expect(await stored.from(original)).to.deep.equal([]);
    const grantReads = mongoCommands.filter((entry) => /^(find|aggregate|count|getMore) /.test(entry) && entry.endsWith(` ${collectionName('Grant')}`));
    expect(grantReads, mongoCommands.join(', ')).to.have.length(2);
    // The rest are writes: each of the three grants' tokens (a delete per token collection, one
    // script in Redis), the grant, and two cache notices (its tokens, the grant record).
    const trace = `mongo: ${mongoCommands.join(', ')}; redis: ${redisCommands.join(', ')}`;
    expect(mongoCommands.filter((entry) => !entry.startsWith('delete ')), trace).to.deep.equal([`find ${collectionName('Grant')}`, `find ${collectionName('Grant')}`]);
    expect(mongoCommands.filter((entry) => entry === `delete ${collectionName('Grant')}`), trace).to.have.length(3);
    expect(redisCommands.filter((command) => command === 'evalsha'), trace).to.have.length(3);
    expect(redisCommands.filter((command) => command !== 'evalsha' && command !== 'publish' && command !== 'ping'), trace).to.deep.equal([]);
  });

  it("disabling a user reads the user's grants twice (the list, and once more for an exchange made meanwhile) however many there are", async () => {
    const userId = await newUser('many');
    for (let i = 0; i < 3; i += 1) {
      const subject = await signIn(userId);
      for (let j = 0; j < 2; j += 1) expect((await exchange(subject)).status).to.equal(200);
    }
    const stored = storedGrants(mongo);
    expect(await stored.ofUser(userId), 'three grants, two exchanges of each').to.have.length(9);

    counted = [];
    try {
      await userOperations(gatehouse.services).disable(ctx, userId);
    } finally {
      const reads = counted.filter((entry) => entry === `find ${collectionName('Grant')}`);
      counted = undefined;
      expect(reads, 'reads of the Grant collection').to.have.length(2);
    }
    expect(await stored.ofUser(userId)).to.deep.equal([]);
  });
});

describe("exchanged grants and another instance's cache (two instances, one store)", function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let a: RunningGatehouse;
  let b: RunningGatehouse;
  let mongo: Connection;
  let app: Client;
  let caller: Client;

  before(async () => {
    // Without Redis no change notice reaches B: its cache holds a revoked grant for its whole TTL
    // (README, GATEHOUSE_SESSION_CACHE_TTL) — with Redis, until A's notice arrives.
    deploy = await deployment('exchanged_grants_instances', { redis: false, settings: { GATEHOUSE_SESSION_CACHE_TTL: '600' } });
    a = await deploy.start();
    b = await deploy.start(await freePort());
    ({ app, caller } = await cast(a));
    mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
  });
  after(async () => {
    await mongo?.close();
    await b?.close();
    await a?.close();
    await deploy?.drop();
  });

  it("an exchange at B of a token whose grant A revoked is refused, though B's cache still holds the grant: nothing of it is left", async () => {
    const user = await a.services.accounts.createUser({ username: `cached-${Math.random().toString(36).slice(2, 8)}`, password: PASSWORD });
    const signedIn = await basicAuthTokenRequest(a.url, app, { grant_type: 'password', username: user.username, password: PASSWORD, scope: 'openid', resource: APP_API });
    const subject = signedIn.body.access_token!;
    const exchangeAtB = () => basicAuthTokenRequest(b.url, caller, { grant_type: EXCHANGE, subject_token: subject, subject_token_type: ACCESS_TOKEN, resource: ORDERS, scope: 'read' });
    // B reads the token and its grant (and keeps them in memory).
    expect((await exchangeAtB()).status).to.equal(200);
    const original = (await a.services.revocation.listGrants(user.id)).find((grant) => grant.clientId === app.clientId)!.id;

    await sessionOperations(a.services).revokeGrant(ctx, original, user.id);
    expect(await storedGrants(mongo).from(original), 'A removed the grant and its exchange').to.deep.equal([]);

    const refused = await exchangeAtB();
    expect([refused.status, refused.body.error], JSON.stringify(refused.body)).to.deep.equal([400, 'invalid_grant']);
    expect(await storedGrants(mongo).from(original), 'no exchanged grant without its original').to.deep.equal([]);
  });
});
