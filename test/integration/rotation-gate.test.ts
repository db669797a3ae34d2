import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { AdapterPayload } from 'oidc-provider';
import { createAdapterFactory, type RoutedAdapterFactory } from '../../src/storage/oidc/adapter-factory.ts';
import { CONSUMPTION_COLLECTION } from '../../src/storage/oidc/mongo-documents.ts';
import { ROTATION_IN_FLIGHT_MS } from '../../src/storage/oidc/mongo-adapter.ts';
import { ensureOidcIndexes } from '../../src/storage/oidc/mongo-indexes.ts';
import { rotationClaimKey } from '../../src/storage/oidc/rotation-gate.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { freshDatabaseUri, serviceUrls } from '../helpers/stores.ts';

const id = () => randomBytes(12).toString('base64url');

async function rejection(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: { error?: string; message?: string }) => error.error ?? error.message ?? 'unexpected error',
  );
}

/**
 * Refresh-token rotation with Redis configured: the claim is a Redis script, and the rotation's
 * one MongoDB write — its completion (successor + mark) — is also its durable check. Driven the
 * way the server drives it (deferred successors, completeRotation / abandonRotation), on a clock
 * the test moves.
 */
describe('refresh-token rotation gate (Redis claim, one MongoDB write)', () => {
  let mongo: Connection;
  let redis: Redis;
  let prefix: string;
  let clock = Date.now();
  let mongoUri: string;

  before(async () => {
    mongoUri = freshDatabaseUri('rotation_gate');
    mongo = await connectMongo({ uri: mongoUri, timeoutMs: 5000 });
    await ensureOidcIndexes(mongo);
    redis = await connectRedis({ url: serviceUrls().redisUrl, timeoutMs: 5000 });
    prefix = `test:${randomBytes(6).toString('hex')}:`;
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await mongo.dropDatabase().catch(() => {});
    await mongo.close();
  });

  function factory(window: number, withRedis = true): RoutedAdapterFactory {
    return createAdapterFactory({
      mongo,
      redis: withRedis ? redis : undefined,
      redisPrefix: prefix,
      reuseWindowSeconds: window,
      deferRotationSuccessors: true,
      now: () => clock,
    });
  }
  const tokens = () => mongo.db!.collection<{ _id: string; consumed?: number }>('oidc_refresh_token');
  const stored = async (key: string) => (await tokens().findOne({ _id: key })) !== null;

  async function issued(adapter: RoutedAdapterFactory, grantId = id()): Promise<{ key: string; grantId: string }> {
    const key = id();
    await adapter('RefreshToken').upsert(key, { kind: 'RefreshToken', jti: key, grantId, accountId: 'a', clientId: 'c' } as AdapterPayload, 3600);
    return { key, grantId };
  }

  /** What the refresh grant does up to its response: find, consume, save the successor (held back). */
  async function rotate(adapter: RoutedAdapterFactory, key: string, grantId: string): Promise<string> {
    await adapter('RefreshToken').find(key);
    await adapter('RefreshToken').consume(key);
    const successor = id();
    await adapter('RefreshToken').upsert(successor, { kind: 'RefreshToken', jti: successor, grantId, accountId: 'a', clientId: 'c', rotations: 1 } as AdapterPayload, 3600);
    return successor;
  }

  it('claims in Redis, writes nothing to MongoDB until the completion, then the successor and the mark', async () => {
    const adapter = factory(0);
    const { key, grantId } = await issued(adapter);
    const successor = await rotate(adapter, key, grantId);
    expect(await redis.get(rotationClaimKey(prefix, `RefreshToken:${key}`)), 'the claim').to.equal(String(clock));
    expect(await mongo.db!.collection(CONSUMPTION_COLLECTION).countDocuments({ _id: `RefreshToken:${key}` as never }), 'no MongoDB gate').to.equal(0);
    expect(await stored(successor), 'the successor is held back').to.equal(false);
    expect((await tokens().findOne({ _id: key }))?.consumed, 'not marked before the completion').to.equal(undefined);
    await adapter.completeRotation(key, successor);
    expect(await stored(successor)).to.equal(true);
    expect((await tokens().findOne({ _id: key }))?.consumed).to.be.a('number');
  });

  it('completes even when the successor id is already stored: the insert falls back to replacing it', async () => {
    const adapter = factory(0);
    const { key, grantId } = await issued(adapter);
    const successor = await rotate(adapter, key, grantId);
    await tokens().insertOne({ _id: successor, stale: true } as never);
    await adapter.completeRotation(key, successor);
    const written = await tokens().findOne({ _id: successor });
    expect(written, 'the held successor replaced the stale copy').to.not.have.property('stale');
    expect(written).to.have.property('payload');
    expect((await tokens().findOne({ _id: key }))?.consumed).to.be.a('number');
  });

  it('gives exactly one winner among concurrent claims (strict window)', async () => {
    const adapter = factory(0);
    const { key } = await issued(adapter);
    await adapter('RefreshToken').find(key);
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => rejection(adapter('RefreshToken').consume(key))));
    expect(outcomes.filter((outcome) => outcome === undefined)).to.have.length(1);
    expect(outcomes.filter((outcome) => outcome === 'invalid_grant')).to.have.length(7);
  });

  it('a Redis that lost the claim still gives one winner: the second completion is refused and keeps no successor', async () => {
    const adapter = factory(0);
    const { key, grantId } = await issued(adapter);
    const first = await rotate(adapter, key, grantId);
    await redis.del(rotationClaimKey(prefix, `RefreshToken:${key}`));
    // Another instance, whose claim Redis no longer sees as taken.
    const other = factory(0);
    const second = await rotate(other, key, grantId);
    await adapter.completeRotation(key, first);
    expect(await rejection(other.completeRotation(key, second)), 'the late completion').to.equal('invalid_grant');
    expect(await stored(first), 'the winner\'s successor').to.equal(true);
    expect(await stored(second), 'the loser\'s successor is gone').to.equal(false);
  });

  it('inside the reuse window both rotations complete, even after Redis lost the claim', async () => {
    const adapter = factory(10);
    const { key, grantId } = await issued(adapter);
    const first = await rotate(adapter, key, grantId);
    await adapter.completeRotation(key, first);
    await redis.del(rotationClaimKey(prefix, `RefreshToken:${key}`));
    clock += 2_000;
    const second = await rotate(adapter, key, grantId);
    await adapter.completeRotation(key, second);
    expect(await stored(first)).to.equal(true);
    expect(await stored(second)).to.equal(true);
    clock += 9_000;
    expect(await adapter('RefreshToken').find(key), 'the window counts from the first rotation').to.have.property('consumed');
  });

  it('a rotation whose grant was revoked before its completion is refused and keeps no successor', async () => {
    const adapter = factory(0);
    const { key, grantId } = await issued(adapter);
    const successor = await rotate(adapter, key, grantId);
    await adapter('RefreshToken').revokeByGrantId(grantId);
    expect(await rejection(adapter.completeRotation(key, successor))).to.equal('invalid_grant');
    expect(await stored(successor)).to.equal(false);
  });

  it('refuses a second claim while the first may be in flight, and lets one retry take over one that never completed', async () => {
    const adapter = factory(0);
    const { key, grantId } = await issued(adapter);
    // Claimed, then nothing: the process died before its response was ready.
    const lost = await rotate(adapter, key, grantId);
    clock += ROTATION_IN_FLIGHT_MS - 1_000;
    expect(await rejection(adapter('RefreshToken').consume(key)), 'in flight').to.equal('invalid_grant');
    clock += 2_000;
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => rejection(adapter('RefreshToken').consume(key))));
    expect(outcomes.filter((outcome) => outcome === undefined), 'one takes over').to.have.length(1);
    expect(await adapter('RefreshToken').find(key), 'nothing marked it').not.to.have.property('consumed');
    const successor = id();
    await adapter('RefreshToken').upsert(successor, { kind: 'RefreshToken', jti: successor, grantId, rotations: 1 } as AdapterPayload, 3600);
    await adapter.completeRotation(key, successor);
    expect(await stored(lost), 'the lost successor was never written').to.equal(false);
    expect(await stored(successor)).to.equal(true);
  });

  it('an abandoned rotation (its response failed) releases its claim: a strict retry inside the hold succeeds', async () => {
    const adapter = factory(0);
    const { key, grantId } = await issued(adapter);
    const abandoned = await rotate(adapter, key, grantId);
    await adapter.abandonRotation(key, abandoned);
    expect(await redis.get(rotationClaimKey(prefix, `RefreshToken:${key}`)), 'the claim is gone').to.equal(null);
    clock += 5_000;
    const retry = factory(0);
    const successor = await rotate(retry, key, grantId);
    await retry.completeRotation(key, successor);
    expect(await stored(abandoned), 'the abandoned successor was never written').to.equal(false);
    expect(await stored(successor)).to.equal(true);
  });

  it('a completion that fails (MongoDB unreachable: 503) releases its claim: the retry after Retry-After succeeds (strict window)', async () => {
    const { key, grantId } = await issued(factory(0));
    // An instance whose MongoDB connection goes away between the claim and the completion.
    const own = await connectMongo({ uri: mongoUri, timeoutMs: 5000 });
    const failing = createAdapterFactory({ mongo: own, redis, redisPrefix: prefix, reuseWindowSeconds: 0, deferRotationSuccessors: true, now: () => clock });
    const failed = await rotate(failing, key, grantId);
    await own.close();
    expect(await rejection(failing.completeRotation(key, failed)), 'the completion fails').to.not.equal(undefined);
    expect(await redis.get(rotationClaimKey(prefix, `RefreshToken:${key}`)), 'the claim is gone').to.equal(null);
    clock += 5_000;
    const adapter = factory(0);
    const successor = await rotate(adapter, key, grantId);
    await adapter.completeRotation(key, successor);
    expect(await stored(failed), 'the failed successor was never written').to.equal(false);
    expect(await stored(successor)).to.equal(true);
  });

  it('releases only its own claim: a claim another rotation took over since stays', async () => {
    const adapter = factory(0);
    const { key, grantId } = await issued(adapter);
    const stale = await rotate(adapter, key, grantId);
    clock += ROTATION_IN_FLIGHT_MS + 1_000;
    const other = factory(0);
    await rotate(other, key, grantId);
    await adapter.abandonRotation(key, stale);
    expect(await redis.get(rotationClaimKey(prefix, `RefreshToken:${key}`)), 'the newer claim').to.equal(String(clock));
    expect(await rejection(factory(0)('RefreshToken').consume(key)), 'still held').to.equal('invalid_grant');
  });

  it('without Redis, MongoDB is the gate (oidc_consumption), as before', async () => {
    const adapter = factory(0, false);
    const { key, grantId } = await issued(adapter);
    const successor = await rotate(adapter, key, grantId);
    expect(await mongo.db!.collection(CONSUMPTION_COLLECTION).countDocuments({ _id: `RefreshToken:${key}` as never })).to.equal(1);
    expect(await rejection(factory(0, false)('RefreshToken').consume(key)), 'one winner').to.equal('invalid_grant');
    await adapter.completeRotation(key, successor);
    expect(await stored(successor)).to.equal(true);
  });
});
