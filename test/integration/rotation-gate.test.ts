import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { AdapterPayload } from 'oidc-provider';
import { createAdapterFactory, type RoutedAdapterFactory } from '../../src/storage/oidc/adapter-factory.ts';
import { CONSUMPTION_COLLECTION, toDocument } from '../../src/storage/oidc/mongo-documents.ts';
import { ROTATION_IN_FLIGHT_MS } from '../../src/storage/oidc/mongo-adapter.ts';
import { ensureOidcIndexes } from '../../src/storage/oidc/mongo-indexes.ts';
import { rotationClaimKey } from '../../src/storage/oidc/rotation-gate.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { faultyLink } from '../helpers/faulty-link.ts';
import { emptyDatabaseUri, recycleDatabase, serviceUrls } from '../helpers/stores.ts';

const id = () => randomBytes(12).toString('base64url');

/** A promise the test resolves when it chooses. */
function latch(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

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
    mongoUri = emptyDatabaseUri('rotation_gate');
    mongo = await connectMongo({ uri: mongoUri, timeoutMs: 5000 });
    await ensureOidcIndexes(mongo);
    redis = await connectRedis({ url: serviceUrls().redisUrl, timeoutMs: 5000 });
    prefix = `test:${randomBytes(6).toString('hex')}:`;
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await mongo.close();
    await recycleDatabase(mongoUri);
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
  const tokens = () => mongo.db!.collection<{ _id: string; consumed?: number; rotatedAtMs?: number; successorId?: string }>('oidc_refresh_token');
  const stored = async (key: string) => (await tokens().findOne({ _id: key })) !== null;
  const marker = (key: string) => tokens().findOne({ _id: `rotated:${key}` });

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

  it('claims in Redis, writes nothing to MongoDB until the completion, then the successor and the rotation marker in one insert', async () => {
    const adapter = factory(0);
    const { key, grantId } = await issued(adapter);
    const successor = await rotate(adapter, key, grantId);
    expect(await redis.get(rotationClaimKey(prefix, `RefreshToken:${key}`)), 'the claim').to.equal(String(clock));
    expect(await mongo.db!.collection(CONSUMPTION_COLLECTION).countDocuments({ _id: `RefreshToken:${key}` as never }), 'no MongoDB gate').to.equal(0);
    expect(await stored(successor), 'the successor is held back').to.equal(false);
    expect(await marker(key), 'no marker before the completion').to.equal(null);
    await adapter.completeRotation(key, successor);
    expect(await stored(successor)).to.equal(true);
    expect(await marker(key)).to.include({ rotatedAtMs: clock, successorId: successor, grantId });
    expect((await tokens().findOne({ _id: key }))?.consumed, 'the old token itself is not written').to.equal(undefined);
    expect(await adapter('RefreshToken').find(key), 'it reads as consumed').to.have.property('consumed', Math.floor(clock / 1000));
    expect(await adapter('RefreshToken').find(`rotated:${key}`), 'a marker is never a token').to.equal(undefined);
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
    expect(await marker(key)).to.include({ successorId: successor });
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

  it('a rotation completing while its grant is revoked writes its successor under the revoked grant (the library refuses it: the Grant is gone)', async () => {
    // The one insert reads nothing, so it cannot see a revocation that landed since the find; the
    // successor it writes names a grant whose Grant record the revocation destroyed, and the
    // library checks the Grant on every use of a token (refresh, introspection, userinfo).
    const adapter = factory(0);
    const { key, grantId } = await issued(adapter);
    const successor = await rotate(adapter, key, grantId);
    await adapter('RefreshToken').revokeByGrantId(grantId);
    await adapter.completeRotation(key, successor);
    expect(await adapter('RefreshToken').find(successor)).to.have.property('grantId', grantId);
    expect(await adapter('Grant').find(grantId), 'no Grant to honour it').to.equal(undefined);
  });

  describe('inside the refresh grant (its find reads the token alone)', () => {
    it('a token rotated before, reused after the claim ran out: found out by the insert, the grant is revoked', async () => {
      const adapter = factory(0);
      const { key, grantId } = await issued(adapter);
      const first = await adapter.inRefreshGrant(key, () => rotate(adapter, key, grantId));
      await adapter.completeRotation(key, first);
      clock += ROTATION_IN_FLIGHT_MS + 1_000;
      const reuser = factory(0);
      const outcome = await reuser.inRefreshGrant(key, async () => {
        const second = await rotate(reuser, key, grantId);
        const refused = await rejection(reuser.completeRotation(key, second));
        expect(await stored(second), 'the reuse keeps no successor').to.equal(false);
        return { refused, reused: reuser.reusedGrant() };
      });
      expect(outcome).to.deep.equal({ refused: 'invalid_grant', reused: grantId });
      expect(await stored(first), 'the whole grant is revoked, the legitimate successor included').to.equal(false);
      expect(await marker(key), 'and the marker').to.equal(null);
    });

    it('a token rotated before, reused inside the claim\'s hold: found out by the consume, the grant is revoked', async () => {
      const adapter = factory(0);
      const { key, grantId } = await issued(adapter);
      const first = await adapter.inRefreshGrant(key, () => rotate(adapter, key, grantId));
      await adapter.completeRotation(key, first);
      clock += 1_000;
      const reuser = factory(0);
      const outcome = await reuser.inRefreshGrant(key, async () => {
        expect(await reuser('RefreshToken').find(key), 'its own find does not see the rotation').not.to.have.property('consumed');
        return { refused: await rejection(reuser('RefreshToken').consume(key)), reused: reuser.reusedGrant() };
      });
      expect(outcome).to.deep.equal({ refused: 'invalid_grant', reused: grantId });
      expect(await stored(first)).to.equal(false);
    });

    it('a rotation completed between this request\'s find and its insert is a lost race, not reuse: refused, nothing revoked', async () => {
      const adapter = factory(0);
      const { key, grantId } = await issued(adapter);
      const other = factory(0);
      const outcome = await other.inRefreshGrant(key, async () => {
        await other('RefreshToken').find(key);
        clock += 5;
        // Meanwhile the first request rotates the token and completes.
        const first = await adapter.inRefreshGrant(key, () => rotate(adapter, key, grantId));
        await adapter.completeRotation(key, first);
        await redis.del(rotationClaimKey(prefix, `RefreshToken:${key}`));
        await other('RefreshToken').consume(key);
        const successor = id();
        await other('RefreshToken').upsert(successor, { kind: 'RefreshToken', jti: successor, grantId, rotations: 1 } as AdapterPayload, 3600);
        return { refused: await rejection(other.completeRotation(key, successor)), reused: other.reusedGrant(), first };
      });
      expect(outcome.refused).to.equal('invalid_grant');
      expect(outcome.reused, 'not reuse').to.equal(undefined);
      expect(await stored(outcome.first), 'the winner keeps its successor').to.equal(true);
    });

    it('a completion whose reply was lost, sent again: the marker names this rotation\'s own successor — completed, nothing refused or revoked', async () => {
      const adapter = factory(0);
      const { key, grantId } = await issued(adapter);
      const outcome = await adapter.inRefreshGrant(key, async () => {
        const successor = await rotate(adapter, key, grantId);
        // The first attempt's insert (successor + marker) committed; its reply never arrived, and
        // the same insert is sent again (the driver's retryable write, or a retry of ours).
        const payload = { kind: 'RefreshToken', jti: successor, grantId, accountId: 'a', clientId: 'c', rotations: 1 } as AdapterPayload;
        await tokens().insertMany([toDocument(successor, payload, 3600, clock, 'RefreshToken'), { _id: `rotated:${key}`, rotatedAtMs: clock, successorId: successor, grantId }] as never[], { ordered: true });
        return { refused: await rejection(adapter.completeRotation(key, successor)), reused: adapter.reusedGrant(), successor };
      });
      expect(outcome.refused, 'the completion succeeds').to.equal(undefined);
      expect(outcome.reused, 'not reuse').to.equal(undefined);
      expect(await stored(outcome.successor), 'the successor stays').to.equal(true);
      expect(await stored(key), 'the grant is not revoked').to.equal(true);
      expect(await marker(key)).to.include({ successorId: outcome.successor, rotatedAtMs: clock });
      expect(await adapter('RefreshToken').find(outcome.successor), 'the successor is usable').not.to.have.property('consumed');
    });

    it('the same completion run twice (a retry after its write committed) succeeds both times and revokes nothing', async () => {
      const adapter = factory(0);
      const { key, grantId } = await issued(adapter);
      const outcome = await adapter.inRefreshGrant(key, async () => {
        const successor = await rotate(adapter, key, grantId);
        await adapter.completeRotation(key, successor);
        return { again: await rejection(adapter.completeRotation(key, successor)), reused: adapter.reusedGrant(), successor };
      });
      expect(outcome).to.deep.equal({ again: undefined, reused: undefined, successor: outcome.successor });
      expect(await stored(outcome.successor)).to.equal(true);
      expect(await stored(key), 'the grant is not revoked').to.equal(true);
    });

    it('a marker naming ANOTHER successor is still another rotation: reuse revokes the grant', async () => {
      const adapter = factory(0);
      const { key, grantId } = await issued(adapter);
      const outcome = await adapter.inRefreshGrant(key, async () => {
        const successor = await rotate(adapter, key, grantId);
        await tokens().insertOne({ _id: `rotated:${key}`, rotatedAtMs: clock, successorId: id(), grantId } as never);
        return { refused: await rejection(adapter.completeRotation(key, successor)), reused: adapter.reusedGrant(), successor };
      });
      expect(outcome.refused).to.equal('invalid_grant');
      expect(outcome.reused).to.equal(grantId);
      expect(await stored(outcome.successor)).to.equal(false);
    });

    it('inside the reuse window a retry of a rotated token completes too', async () => {
      const adapter = factory(10);
      const { key, grantId } = await issued(adapter);
      const first = await adapter.inRefreshGrant(key, () => rotate(adapter, key, grantId));
      await adapter.completeRotation(key, first);
      clock += 3_000;
      const retry = factory(10);
      const second = await retry.inRefreshGrant(key, () => rotate(retry, key, grantId));
      await retry.completeRotation(key, second);
      expect(await stored(first)).to.equal(true);
      expect(await stored(second)).to.equal(true);
      expect(await marker(key), 'the first rotation\'s time stays').to.include({ successorId: first });
    });
  });

  it('reads a token marked consumed by an earlier version (the `consumed` field, no marker) as consumed', async () => {
    const adapter = factory(0);
    const { key } = await issued(adapter);
    await tokens().updateOne({ _id: key }, { $set: { consumed: Math.floor(clock / 1000), consumedAtMs: clock } });
    expect(await adapter('RefreshToken').find(key)).to.have.property('consumed', Math.floor(clock / 1000));
    expect(await adapter.inRefreshGrant(key, () => adapter('RefreshToken').find(key)), 'the refresh grant too').to.have.property('consumed');
    expect(await rejection(adapter('RefreshToken').consume(key))).to.equal('invalid_grant');
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

  /**
   * A completion whose insert committed but whose reply was lost to a network error, not sent
   * again: the answer is 503 and the client retries with the old token, whose marker names a
   * successor nobody received. Strict window: without the failed completion remembering that
   * successor, the retry read as reuse and revoked the grant.
   */
  describe('a completion whose reply was lost for good (503), then the client\'s retry', () => {
    async function lostReply(withRedis: boolean) {
      const { key, grantId } = await issued(factory(0, withRedis));
      const proxy = await faultyLink(mongoUri);
      const own = await connectMongo({ uri: proxy.uri, timeoutMs: 5000 });
      const instance = createAdapterFactory({ mongo: own, redis: withRedis ? redis : undefined, redisPrefix: prefix, reuseWindowSeconds: 0, deferRotationSuccessors: true, now: () => clock });
      const failed = await instance.inRefreshGrant(key, async () => {
        const successor = await rotate(instance, key, grantId);
        proxy.dropNextReply('oidc_refresh_token', `rotated:${key}`);
        expect(await rejection(instance.completeRotation(key, successor)), 'the completion fails (503)').to.not.equal(undefined);
        return successor;
      });
      expect(proxy.dropped, 'the reply was dropped').to.equal(true);
      expect(await marker(key), 'the insert committed').to.include({ successorId: failed });
      return { key, grantId, instance, failed, close: async () => (await own.close(), await proxy.close()) };
    }

    async function retry(adapter: RoutedAdapterFactory, key: string, grantId: string) {
      return adapter.inRefreshGrant(key, async () => {
        const successor = await rotate(adapter, key, grantId);
        return { refused: await rejection(adapter.completeRotation(key, successor)), reused: adapter.reusedGrant(), successor };
      });
    }

    it('with Redis, at another instance after Retry-After: the retry completes, nothing revoked; a second retry is reuse', async () => {
      const { key, grantId, failed, close } = await lostReply(true);
      try {
        clock += 5_000;
        const outcome = await retry(factory(0), key, grantId);
        expect(outcome.refused, 'the retry completes').to.equal(undefined);
        expect(outcome.reused, 'not reuse').to.equal(undefined);
        expect(await stored(key), 'the grant is not revoked').to.equal(true);
        expect(await stored(outcome.successor)).to.equal(true);
        expect(await stored(failed), 'the successor nobody received is gone').to.equal(false);
        // Only one retry: the same old token once more is reuse, as ever.
        clock += 11_000;
        const again = await retry(factory(0), key, grantId);
        expect(again.refused).to.equal('invalid_grant');
        expect(again.reused).to.equal(grantId);
      } finally {
        await close();
      }
    });

    it('without Redis, at another instance after Retry-After: the retry completes, nothing revoked; a second retry is reuse', async () => {
      const { key, grantId, failed, close } = await lostReply(false);
      try {
        // The note for the other instances (MongoDB) is written off the failed request's path,
        // once the driver has its server back after the cut connection (the client's retry comes
        // after Retry-After, 5 s). Without the note this waits until the test's timeout.
        const note = () => mongo.db!.collection(CONSUMPTION_COLLECTION).findOne({ _id: `lost:RefreshToken:${key}:${failed}` as never });
        while ((await note()) === null) await new Promise((resolve) => setTimeout(resolve, 10));
        clock += 5_000;
        const outcome = await retry(factory(0, false), key, grantId);
        expect(outcome.refused, 'the retry completes').to.equal(undefined);
        expect(outcome.reused, 'not reuse').to.equal(undefined);
        expect(await stored(key), 'the grant is not revoked').to.equal(true);
        expect(await stored(outcome.successor)).to.equal(true);
        expect(await stored(failed), 'the successor nobody received is gone').to.equal(false);
        expect(await note(), 'the note is used up').to.equal(null);
        // Only one retry: the same old token once more is reuse, as ever.
        clock += 11_000;
        const again = await retry(factory(0, false), key, grantId);
        expect(again.refused).to.equal('invalid_grant');
        expect(again.reused).to.equal(grantId);
      } finally {
        await close();
      }
    });

    it('without Redis, at the same instance: the retry completes, nothing revoked', async () => {
      const { key, grantId, instance, failed, close } = await lostReply(false);
      try {
        clock += 5_000;
        const outcome = await retry(instance, key, grantId);
        expect(outcome.refused, 'the retry completes').to.equal(undefined);
        expect(outcome.reused, 'not reuse').to.equal(undefined);
        expect(await stored(key), 'the grant is not revoked').to.equal(true);
        expect(await stored(outcome.successor)).to.equal(true);
        expect(await stored(failed)).to.equal(false);
      } finally {
        await close();
      }
    });
  });

  it('two rotations of one token on one instance (reuse window): each failed completion gives back its own claim, not the other\'s', async () => {
    // A client's concurrent refreshes, both on this instance, the second inside the reuse window:
    // only the first holds the Redis claim. Its completion fails (503); the claim must go back,
    // or a retry after the window but inside the hold is refused as "in flight".
    const { key, grantId } = await issued(factory(3));
    const own = await connectMongo({ uri: mongoUri, timeoutMs: 5000 });
    const instance = createAdapterFactory({ mongo: own, redis, redisPrefix: prefix, reuseWindowSeconds: 3, deferRotationSuccessors: true, now: () => clock });
    const go = latch();
    /** One request: rotates, then completes once the test lets it (inside its own refresh-grant scope, as the server runs it). */
    function request(): { rotated: Promise<void>; completed: Promise<string | undefined> } {
      const rotated = latch();
      const completed = instance.inRefreshGrant(key, async () => {
        const successor = await rotate(instance, key, grantId);
        rotated.resolve();
        await go.promise;
        return rejection(instance.completeRotation(key, successor));
      });
      return { rotated: rotated.promise, completed };
    }
    const first = request();
    await first.rotated;
    clock += 1_000;
    const second = request();
    await second.rotated;
    await own.close();
    go.resolve();
    expect(await first.completed, 'the first completion fails').to.not.equal(undefined);
    expect(await second.completed, 'the second too').to.not.equal(undefined);
    expect(await redis.get(rotationClaimKey(prefix, `RefreshToken:${key}`)), 'the first rotation\'s claim is given back').to.equal(null);
    clock += 4_000;
    const retry = factory(3);
    const successor = await retry.inRefreshGrant(key, () => rotate(retry, key, grantId));
    expect(await rejection(retry.completeRotation(key, successor)), 'the retry after the window, inside the hold').to.equal(undefined);
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

  describe('without Redis: the completion\'s marker is the gate (one MongoDB write per rotation)', () => {
    it('writes nothing at consume and the successor with the marker at completion', async () => {
      const adapter = factory(0, false);
      const { key, grantId } = await issued(adapter);
      const successor = await adapter.inRefreshGrant(key, () => rotate(adapter, key, grantId));
      expect(await mongo.db!.collection(CONSUMPTION_COLLECTION).countDocuments({ _id: { $in: [`RefreshToken:${key}`] } } as never), 'no oidc_consumption claim').to.equal(0);
      expect(await stored(successor)).to.equal(false);
      await adapter.completeRotation(key, successor);
      expect(await stored(successor)).to.equal(true);
      expect(await marker(key)).to.include({ successorId: successor, grantId });
      expect(await adapter('RefreshToken').find(key), 'the rotated token reads as consumed').to.have.property('consumed');
    });

    it('of concurrent rotations of one token (strict window), exactly one completes; the others are refused, keep no successor and revoke nothing', async () => {
      const adapter = factory(0, false);
      const { key, grantId } = await issued(adapter);
      // Four requests with the token at once (on four instances): all found it before any completed.
      const instances = Array.from({ length: 4 }, () => factory(0, false));
      const go = latch();
      const rotated = instances.map(() => latch());
      const running = instances.map((instance, index) =>
        instance.inRefreshGrant(key, async () => {
          const successor = await rotate(instance, key, grantId);
          rotated[index]!.resolve();
          await go.promise;
          return { refused: await rejection(instance.completeRotation(key, successor)), reused: instance.reusedGrant(), successor };
        }),
      );
      await Promise.all(rotated.map((each) => each.promise));
      clock += 5;
      go.resolve();
      const outcomes = await Promise.all(running);
      const winners = outcomes.filter((outcome) => outcome.refused === undefined);
      expect(winners, JSON.stringify(outcomes)).to.have.length(1);
      expect(outcomes.filter((outcome) => outcome.refused === 'invalid_grant')).to.have.length(3);
      expect(outcomes.map((outcome) => outcome.reused), 'a lost race, not reuse').to.deep.equal([undefined, undefined, undefined, undefined]);
      for (const outcome of outcomes) expect(await stored(outcome.successor), outcome.successor).to.equal(outcome === winners[0]);
      expect(await marker(key)).to.include({ successorId: winners[0]!.successor });
    });

    it('a token reused after its rotation: found out by the completion, the grant is revoked', async () => {
      const adapter = factory(0, false);
      const { key, grantId } = await issued(adapter);
      const first = await adapter.inRefreshGrant(key, () => rotate(adapter, key, grantId));
      await adapter.completeRotation(key, first);
      clock += 1_000;
      const reuser = factory(0, false);
      const outcome = await reuser.inRefreshGrant(key, async () => {
        const second = await rotate(reuser, key, grantId);
        return { refused: await rejection(reuser.completeRotation(key, second)), reused: reuser.reusedGrant(), stored: await stored(second) };
      });
      expect(outcome).to.deep.equal({ refused: 'invalid_grant', reused: grantId, stored: false });
      expect(await stored(first), 'the whole grant is revoked').to.equal(false);
    });

    it('inside the reuse window a retry completes too', async () => {
      const adapter = factory(10, false);
      const { key, grantId } = await issued(adapter);
      const first = await adapter.inRefreshGrant(key, () => rotate(adapter, key, grantId));
      await adapter.completeRotation(key, first);
      clock += 3_000;
      const second = await adapter.inRefreshGrant(key, () => rotate(adapter, key, grantId));
      await adapter.completeRotation(key, second);
      expect(await stored(first)).to.equal(true);
      expect(await stored(second)).to.equal(true);
    });

    it('a rotation that never completed (the process died) leaves the token usable at once, on any instance', async () => {
      const adapter = factory(0, false);
      const { key, grantId } = await issued(adapter);
      const lost = await adapter.inRefreshGrant(key, () => rotate(adapter, key, grantId));
      const other = factory(0, false);
      const successor = await other.inRefreshGrant(key, () => rotate(other, key, grantId));
      await other.completeRotation(key, successor);
      expect(await stored(lost)).to.equal(false);
      expect(await stored(successor)).to.equal(true);
    });

    it('the adapter driven directly (no completion guaranteed) keeps oidc_consumption as the gate at consume', async () => {
      const direct = createAdapterFactory({ mongo, redisPrefix: prefix, reuseWindowSeconds: 0, now: () => clock });
      const { key } = await issued(direct);
      await direct('RefreshToken').consume(key);
      expect(await mongo.db!.collection(CONSUMPTION_COLLECTION).countDocuments({ _id: { $in: [`RefreshToken:${key}`] } } as never)).to.equal(1);
      expect(await rejection(direct('RefreshToken').consume(key)), 'one winner').to.equal('invalid_grant');
    });
  });
});
