import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { AdapterPayload } from 'oidc-provider';
import { runStorageChild, runStorageChildrenTogether } from '../helpers/child.ts';
import { databaseForSuite, serviceUrls } from '../helpers/stores.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { ensureOidcIndexes } from '../../src/storage/oidc/mongo-indexes.ts';

const id = () => randomBytes(12).toString('base64url');

describe('oidc storage across processes (real MongoDB-wire + Redis)', () => {
  const database = databaseForSuite('durability');
  const redisPrefix = `test:${randomBytes(6).toString('hex')}:`;
  const env = (redis = true) => ({ mongodbUri: database.uri, redisUrl: redis ? serviceUrls().redisUrl : undefined, redisPrefix });

  before(async () => {
    const connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    await ensureOidcIndexes(connection);
    await connection.close();
  });

  it('reads back intact, in a fresh process, what another process wrote to both stores', async () => {
    const grantId = id();
    const records = [
      { model: 'Session', id: id(), payload: { kind: 'Session', uid: id(), accountId: 'a-1', authorizations: { 'app.example.com': { grantId, sid: 's' }, $x: { y: [1, {}] } } } },
      { model: 'Grant', id: grantId, payload: { kind: 'Grant', accountId: 'a-1', clientId: 'app.example.com', openid: { scope: 'openid' } } },
      { model: 'RefreshToken', id: id(), payload: { kind: 'RefreshToken', grantId, accountId: 'a-1', exp: 2e9 } },
      { model: 'AuthorizationCode', id: id(), payload: { kind: 'AuthorizationCode', grantId, codeChallenge: 'abc', empty: [] } },
      { model: 'AccessToken', id: id(), payload: { kind: 'AccessToken', grantId, scope: 'openid' } },
    ].map((r) => ({ ...r, payload: r.payload as unknown as AdapterPayload, expiresIn: 300 }));

    expect(await runStorageChild(env(), { op: 'upsert', records })).to.equal('ok');
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
      await runStorageChild(raceEnv, { op: 'upsert', records: [{ model, id: key, payload: { kind: model, grantId: id() } as AdapterPayload, expiresIn: 60 }] });
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
    it(`lets exactly one of two processes rotate one refresh token as the server does (${gate}), and revokes nothing`, async function () {
      this.timeout(90_000);
      const raceEnv = env(redis);
      const key = id();
      const grantId = id();
      await runStorageChild(raceEnv, { op: 'upsert', records: [{ model: 'RefreshToken', id: key, payload: { kind: 'RefreshToken', grantId } as AdapterPayload, expiresIn: 60 }] });
      // Both get past their consume before either completes (a concurrent duplicate, not a reuse).
      const outcomes = await runStorageChildrenTogether(raceEnv, { op: 'rotate', id: key, grantId, rotations: 2 }, 2, 60_000);
      expect(outcomes.sort()).to.deep.equal(['invalid_grant', 'won']);
      const [token] = (await runStorageChild(raceEnv, { op: 'find', records: [{ model: 'RefreshToken', id: key }] })) as Array<{ consumed?: number } | null>;
      expect(token, 'rotated once, the grant not revoked').to.have.property('consumed');
    });
  }
});
