import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { AdapterPayload } from 'oidc-provider';
import { runStorageChild, runStorageChildrenTogether } from '../helpers/child.ts';
import { forSuite } from '../helpers/suite.ts';
import { databaseForSuite, serviceUrls } from '../helpers/stores.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { createAdapterFactory } from '../../src/storage/oidc/adapter-factory.ts';
import { ensureOidcIndexes } from '../../src/storage/oidc/mongo-indexes.ts';
import { connectRedis } from '../../src/storage/redis.ts';

const id = () => randomBytes(12).toString('base64url');

describe('oidc storage across processes (real MongoDB-wire + Redis)', function () {
  // Each test starts fresh Node processes: tens of seconds apiece on a busy 2-core machine.
  this.timeout(240_000);
  const database = databaseForSuite('durability');
  const redisPrefix = `test:${randomBytes(6).toString('hex')}:`;
  const env = (redis = true) => ({ mongodbUri: database.uri, redisUrl: redis ? serviceUrls().redisUrl : undefined, redisPrefix });

  /**
   * The same adapters in this process: what a test sets up before the processes race, and reads
   * after they did (the race itself, and the fresh process's read, are the children's).
   */
  const here = forSuite(
    async () => {
      const mongo = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
      await ensureOidcIndexes(mongo);
      const redis = await connectRedis({ url: serviceUrls().redisUrl, timeoutMs: 5000 });
      return { mongo, redis, adapter: (withRedis = true) => createAdapterFactory({ mongo, redis: withRedis ? redis : undefined, redisPrefix, reuseWindowSeconds: 0 }) };
    },
    async ({ mongo, redis }) => {
      await redis.quit();
      await mongo.close();
    },
  );

  it('reads back intact, in a fresh process, what another process (this one) wrote to both stores', async () => {
    const grantId = id();
    const records = [
      { model: 'Session', id: id(), payload: { kind: 'Session', uid: id(), accountId: 'a-1', authorizations: { 'app.example.com': { grantId, sid: 's' }, $x: { y: [1, {}] } } } },
      { model: 'Grant', id: grantId, payload: { kind: 'Grant', accountId: 'a-1', clientId: 'app.example.com', openid: { scope: 'openid' } } },
      { model: 'RefreshToken', id: id(), payload: { kind: 'RefreshToken', grantId, accountId: 'a-1', exp: 2e9 } },
      { model: 'AuthorizationCode', id: id(), payload: { kind: 'AuthorizationCode', grantId, codeChallenge: 'abc', empty: [] } },
      { model: 'AccessToken', id: id(), payload: { kind: 'AccessToken', grantId, scope: 'openid' } },
    ].map((r) => ({ ...r, payload: r.payload as unknown as AdapterPayload, expiresIn: 300 }));

    const adapter = here.adapter();
    for (const record of records) await adapter(record.model).upsert(record.id, record.payload, record.expiresIn);
    const found = await runStorageChild(env(), { op: 'find', records: records.map(({ model, id }) => ({ model, id })) });
    expect(found).to.deep.equal(records.map((r) => r.payload));
  });

  // A code lives in Redis; a refresh token in MongoDB, claimed in Redis when it is configured
  // (rotation-gate.ts) and in MongoDB's oidc_consumption without it.
  const races = [
    { model: 'AuthorizationCode', gate: 'Redis', redis: true },
    { model: 'RefreshToken', gate: 'a Redis claim', redis: true },
    { model: 'RefreshToken', gate: 'MongoDB only', redis: false },
  ];
  for (const { model, gate, redis } of races) {
    it(`lets exactly one of two processes redeem one ${model} (${gate})`, async () => {
      const raceEnv = env(redis);
      const key = id();
      await here.adapter(redis)(model).upsert(key, { kind: model, grantId: id() } as AdapterPayload, 60);
      const outcomes = await runStorageChildrenTogether(raceEnv, { op: 'consume', model, id: key }, 2);
      expect(outcomes.sort()).to.deep.equal(['invalid_grant', 'won']);
    });
  }

  // The server's whole rotation (scope, deferred successor, completion): with Redis the claim
  // refuses the second; without it the completion's marker does (nothing is written at consume).
  for (const { gate, redis } of [
    { gate: 'a Redis claim', redis: true },
    { gate: 'MongoDB only: the rotation marker', redis: false },
  ]) {
    it(`lets exactly one of two processes rotate one refresh token as the server does (${gate}), and revokes nothing`, async () => {
      const raceEnv = env(redis);
      const key = id();
      const grantId = id();
      await here.adapter(redis)('RefreshToken').upsert(key, { kind: 'RefreshToken', grantId } as AdapterPayload, 60);
      // Both get past their consume before either completes (a concurrent duplicate, not a reuse).
      const outcomes = await runStorageChildrenTogether(raceEnv, { op: 'rotate', id: key, grantId, rotations: 2 }, 2);
      expect(outcomes.sort()).to.deep.equal(['invalid_grant', 'won']);
      const token = (await here.adapter(redis)('RefreshToken').find(key)) as { consumed?: number } | undefined;
      expect(token, 'rotated once, the grant not revoked').to.have.property('consumed');
    });
  }
});
