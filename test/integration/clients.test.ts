import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { clientModel } from '../../src/clients/model.ts';
import { createClientRepository, type ClientRepository } from '../../src/clients/repository.ts';
import { createSecretBox, DecryptionError } from '../../src/crypto/secret-box.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { runStorageChild } from '../helpers/child.ts';
import { testClock } from '../helpers/clock.ts';
import { startInstance } from '../helpers/instance.ts';
import { basicAuthTokenRequest, PASSWORD } from '../helpers/e2e.ts';
import { NOTICE_MS } from '../helpers/poll.ts';
import { databaseForSuite, randomSecret, serviceUrls } from '../helpers/stores.ts';

const RACE_ROUNDS = 30;

const confidential = {
  redirect_uris: ['https://rp.example.com/a'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};

describe('clients repository (real MongoDB-wire)', () => {
  const secret = randomSecret();
  let connection: Connection;
  let clients: ClientRepository;
  const changes: string[] = [];
  const database = databaseForSuite('clients_repo');
  // Follows the system time; a test moves it to a later second instead of waiting for one.
  const clock = testClock();

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    clients = createClientRepository({
      model: clientModel(connection),
      box: createSecretBox(secret, 'client-secrets'),
      onChange: async (clientId) => void changes.push(clientId),
      now: () => new Date(clock.now()),
    });
  });
  after(async () => {
    await connection.close();
  });

  it('returns the secret only on create, stores it sealed, and serves it decrypted to the provider', async () => {
    const { client, secret: clientSecret } = await clients.create({
      clientId: 'app.example.com',
      displayName: 'App',
      firstParty: true,
      allowedApis: ['https://api.example.com'],
      webOrigins: ['https://app.example.com'],
      metadata: { ...confidential, client_secret: 'ignored' },
    });
    expect(clientSecret).to.be.a('string').with.length.of.at.least(43);
    expect(client).to.include({ clientId: 'app.example.com', hasSecret: true, firstParty: true, admin: false });
    expect(JSON.stringify(await clients.get('app.example.com'))).not.to.include(clientSecret!);

    const raw = await connection.db!.collection('clients').findOne({ _id: 'app.example.com' as never });
    expect(JSON.stringify(raw)).not.to.include(clientSecret!);
    expect(raw?.secretSealed).to.match(/^v1\./);

    expect(await clients.providerMetadata('app.example.com')).to.deep.equal({
      client_name: 'App',
      ...confidential,
      client_id: 'app.example.com',
      client_secret: clientSecret,
      first_party: true,
      allowed_apis: ['https://api.example.com'],
      web_origins: ['https://app.example.com'],
      admin_client: false,
      // A new client refuses client_credentials JWTs from before the second it was created.
      tokens_revoked_at: Math.floor(client.createdAt.getTime() / 1000) - 1,
    });
    expect(changes).to.include('app.example.com');
  });

  it('binds a sealed secret to its client: copied onto another client it does not open', async () => {
    await clients.create({ clientId: 'other', displayName: 'Other', metadata: confidential });
    const sealed = (await connection.db!.collection('clients').findOne({ _id: 'app.example.com' as never }))?.secretSealed as string;
    await connection.db!.collection('clients').updateOne({ _id: 'other' as never }, { $set: { secretSealed: sealed } });
    let failure: unknown;
    await clients.providerMetadata('other').catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(DecryptionError);
  });

  it('rotates, updates, lists and deletes; public clients get no secret', async () => {
    const before = await clients.providerMetadata('app.example.com');
    const rotated = await clients.rotateSecret('app.example.com');
    expect(rotated?.secret).to.be.a('string').and.not.equal(before?.client_secret);
    expect((await clients.providerMetadata('app.example.com'))?.client_secret).to.equal(rotated?.secret);

    const spa = await clients.create({ displayName: 'SPA', metadata: { ...confidential, token_endpoint_auth_method: 'none' } });
    expect(spa.secret).to.equal(undefined);
    expect(spa.client.clientId).to.have.length.of.at.least(20);
    expect(await clients.providerMetadata(spa.client.clientId)).not.to.have.property('client_secret');

    const updated = await clients.update(spa.client.clientId, { displayName: 'Single page app', admin: true });
    expect(updated).to.include({ displayName: 'Single page app', admin: true });
    expect(updated!.updatedAt.getTime()).to.be.at.least(spa.client.updatedAt.getTime());
    expect((await clients.list()).map((c) => c.clientId)).to.include.members(['app.example.com', 'other', spa.client.clientId]);

    expect(await clients.delete(spa.client.clientId)).to.equal(true);
    expect(await clients.get(spa.client.clientId)).to.equal(undefined);
    expect(await clients.delete(spa.client.clientId)).to.equal(false);
    expect(await clients.update('nobody', { admin: true })).to.equal(undefined);
    expect(await clients.rotateSecret('nobody')).to.equal(undefined);
  });

  it('a client created again under a deleted one\'s id refuses the old one\'s JWTs: its mark is its own creation, not the old client\'s', async () => {
    const mark = async (clientId: string) => (await clients.providerMetadata(clientId))?.tokens_revoked_at as number;
    await clients.create({ clientId: 'reborn', displayName: 'Reborn', metadata: confidential });
    const first = await mark('reborn');
    expect(await clients.delete('reborn')).to.equal(true);
    // The old client's tokens carry an `iat` of its lifetime; only a later second can tell them apart.
    await clock.advance(2_000);
    const { client } = await clients.create({ clientId: 'reborn', displayName: 'Reborn', metadata: confidential });
    expect(await mark('reborn')).to.equal(Math.floor(client.createdAt.getTime() / 1000) - 1).and.be.greaterThan(first);
  });

  it('an import over an existing client keeps its revocation mark; a client new here gets a creation mark', async () => {
    await clients.create({ clientId: 'imported', displayName: 'Imported', metadata: confidential });
    expect(await clients.markTokensRevoked('imported')).to.equal(true);
    const revokedAt = (await clients.providerMetadata('imported'))?.tokens_revoked_at;
    expect(revokedAt).to.be.a('number');
    // As an export file holds it (exportAll itself would trip over the altered client above).
    const { hasSecret: _, createdAt, updatedAt, ...shown } = (await clients.get('imported'))!;
    const exported = { ...shown, secret: (await clients.providerMetadata('imported'))!.client_secret!, createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString() };
    expect(await clients.importOne({ ...exported, displayName: 'Imported again' })).to.equal('updated');
    const after = await clients.providerMetadata('imported');
    expect(after).to.include({ client_name: 'Imported again', tokens_revoked_at: revokedAt });

    expect(await clients.delete('imported')).to.equal(true);
    const before = Math.floor(clock.now() / 1000);
    expect(await clients.importOne(exported)).to.equal('created');
    // The export's old createdAt is no mark: tokens of the client as it was before are refused.
    expect((await clients.providerMetadata('imported'))?.tokens_revoked_at).to.be.at.least(before - 1);
  });

  it(`keeps a settings edit that races a secret rotation (${RACE_ROUNDS} rounds, FerretDB rewrites whole documents)`, async () => {
    await clients.create({ clientId: 'racer', displayName: 'Racer', metadata: confidential });
    const lost: string[] = [];
    for (let round = 1; round <= RACE_ROUNDS; round++) {
      const [, rotated] = await Promise.all([clients.update('racer', { displayName: `Racer ${round}` }), clients.rotateSecret('racer')]);
      const metadata = await clients.providerMetadata('racer');
      if (metadata?.client_name !== `Racer ${round}`) lost.push(`${round}: edit`);
      if (metadata?.client_secret !== rotated?.secret) lost.push(`${round}: secret`);
    }
    expect(lost, 'rounds that lost one of the two changes').to.deep.equal([]);
  });
});

/** An /auth request whose answer depends on the client's registered redirect URIs. */
async function authorize(url: string, clientId: string, redirectUri: string): Promise<number> {
  const params = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: redirectUri,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  });
  const response = await fetch(`${url}/auth?${params}`, { redirect: 'manual' });
  await response.arrayBuffer();
  return response.status;
}

async function waitForStatus(check: () => Promise<number>, status: number, limitMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if ((await check()) === status) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return expect.fail(`status ${status} not seen within ${limitMs} ms`);
}

for (const withRedis of [true, false]) {
  const ttlSeconds = 60;
  describe(`client changes reach a running server ${withRedis ? 'by a Redis notice (60 s TTL on a frozen clock)' : `once the ${ttlSeconds} s cache TTL ran out on the clock (no Redis)`}`, () => {
    // Frozen: no cache entry runs out unless the test moves the clock.
    const clock = testClock({ frozen: true });
    const database = databaseForSuite(withRedis ? 'clients_redis' : 'clients_ttl');
    const redisUrl = withRedis ? serviceUrls().redisUrl : undefined;
    const redisPrefix = `test:${randomBytes(6).toString('hex')}:`;
    const secret = randomSecret();
    let gatehouse: RunningGatehouse;

    before(async () => {
      gatehouse = await startInstance({
        mongodbUri: database.uri,
        redisUrl,
        secret,
        clock,
        settings: { GATEHOUSE_CLIENT_CACHE_TTL: String(ttlSeconds), GATEHOUSE_REDIS_PREFIX: redisPrefix },
      });
    });
    after(async () => {
      await gatehouse.close();
    });

    it('serves a client changed by another process', async function () {
      // A storage child is a Node process of its own (backstop 90 s): seconds to start at load 30.
      this.timeout(120_000);
      await gatehouse.services.clients.create({ clientId: 'rp.example.com', displayName: 'RP', metadata: confidential });
      const probe = () => authorize(gatehouse.url, 'rp.example.com', 'https://rp.example.com/b');
      expect(await authorize(gatehouse.url, 'rp.example.com', 'https://rp.example.com/a')).to.equal(303);
      expect(await probe()).to.equal(400);

      const answer = await runStorageChild(
        { mongodbUri: database.uri, redisUrl, redisPrefix },
        { op: 'updateClient', clientId: 'rp.example.com', secret, metadata: { ...confidential, redirect_uris: ['https://rp.example.com/a', 'https://rp.example.com/b'] } },
      );
      expect(answer).to.equal('updated');

      if (withRedis) {
        await waitForStatus(probe, 303, NOTICE_MS);
      } else {
        expect(await probe(), 'cached: no notice without Redis').to.equal(400);
        await clock.advance(ttlSeconds * 1000 - 1000);
        expect(await probe(), 'still within the TTL').to.equal(400);
        await clock.advance(1001);
        expect(await probe()).to.equal(303);
      }
    });

    // Userinfo finds its client on every request (the Client the provider built for the cached
    // record is kept by that record, src/oidc/built-clients.ts): a change made elsewhere must
    // reach it as soon as the record does. Here the client's web origins decide the answer.
    it('userinfo follows a client changed by another process (its web origins)', async function () {
      this.timeout(120_000);
      const cli = { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true };
      const created = await gatehouse.services.clients.create({ displayName: 'CLI', firstParty: true, webOrigins: ['https://one.example'], metadata: cli });
      const user = await gatehouse.services.accounts.createUser({ username: `ui${randomBytes(4).toString('hex')}`, password: PASSWORD });
      const tokens = await basicAuthTokenRequest(gatehouse.url, { clientId: created.client.clientId, secret: created.secret! }, { grant_type: 'password', username: user.username, password: PASSWORD, scope: 'openid' });
      expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
      const userinfo = async (origin: string) => {
        const response = await fetch(`${gatehouse.url}/me`, { headers: { authorization: `Bearer ${tokens.body.access_token!}`, origin } });
        await response.arrayBuffer();
        return response.status;
      };
      // Twice each: the second request is served by the Client kept for the cached record.
      for (let i = 0; i < 2; i += 1) {
        expect(await userinfo('https://one.example')).to.equal(200);
        expect(await userinfo('https://two.example')).to.equal(400);
      }

      const answer = await runStorageChild(
        { mongodbUri: database.uri, redisUrl, redisPrefix },
        { op: 'updateClient', clientId: created.client.clientId, secret, metadata: cli, webOrigins: ['https://two.example'] },
      );
      expect(answer).to.equal('updated');

      if (withRedis) {
        await waitForStatus(() => userinfo('https://two.example'), 200, NOTICE_MS);
      } else {
        expect(await userinfo('https://two.example'), 'cached: no notice without Redis').to.equal(400);
        await clock.advance(ttlSeconds * 1000 + 1);
        expect(await userinfo('https://two.example')).to.equal(200);
      }
      expect(await userinfo('https://one.example'), 'the old origin is refused').to.equal(400);
    });
  });
}
