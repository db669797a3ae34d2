import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { StoreUnavailableError } from '../../src/errors/store-unavailable.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { documentLocks, LOCK_COLLECTION } from '../../src/storage/document-locks.ts';
import { faultyLink } from '../helpers/faulty-link.ts';
import { databaseForSuite } from '../helpers/stores.ts';

/** The per-document lock on a real MongoDB-wire server (FerretDB in the suite). */
describe('document locks (real MongoDB-wire server)', function () {
  this.timeout(60_000);
  const database = databaseForSuite('document_locks');
  let connection: Connection;
  let nowMs = Date.UTC(2026, 10, 29, 12);
  const now = () => nowMs;

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
  });
  after(async () => {
    await connection.close();
  });

  /** Runs `holders` at once on one key; resolves to the most that were ever inside together. */
  async function crowd(holders: number, key: string, locks = documentLocks(connection, { now })): Promise<number> {
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: holders }, () =>
        locks.hold(key, async () => {
          inside += 1;
          most = Math.max(most, inside);
          // A store round trip while holding, so others get their turn to try.
          await connection.collection('lock_probe').findOne({ _id: key as never });
          inside -= 1;
        }),
      ),
    );
    return most;
  }

  it('lets one holder in at a time and leaves nothing behind', async () => {
    expect(await crowd(12, 'probe:one')).to.equal(1);
    expect(await connection.collection(LOCK_COLLECTION).countDocuments({})).to.equal(0);
  });

  it('takes over a lease that ran out (its holder died), exactly one waiter at a time', async () => {
    await connection.collection(LOCK_COLLECTION).insertOne({ _id: 'probe:dead' as never, owner: 'a process that died', expiresAt: new Date(nowMs + 15_000) });
    // Still leased: a waiter gives up with 503 instead of waiting forever.
    const impatient = documentLocks(connection, { now, maxWaitMs: 20, sleep: async () => {} });
    const refused = await impatient.hold('probe:dead', async () => 'ran').catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(StoreUnavailableError);
    nowMs += 16_000;
    expect(await crowd(8, 'probe:dead')).to.equal(1);
    expect(await connection.collection(LOCK_COLLECTION).countDocuments({})).to.equal(0);
  });

  it('is not stuck for good when a takeover stopped between its marker and its rewrite (the taker died)', async () => {
    const expired = new Date(nowMs - 1_000);
    await connection.collection(LOCK_COLLECTION).insertOne({ _id: 'probe:half' as never, owner: 'a process that died', expiresAt: expired });
    // The taker that died had inserted its takeover marker, and its lease ran out too.
    await connection.collection(LOCK_COLLECTION).insertOne({ _id: `probe:half@${expired.getTime()}` as never, owner: 'a taker that died', expiresAt: new Date(nowMs + 15_000) });
    nowMs += 16_000;
    const patient = documentLocks(connection, { now, maxWaitMs: 200, sleep: async () => {} });
    expect(await patient.hold('probe:half', async () => 'ran')).to.equal('ran');
    expect(await connection.collection(LOCK_COLLECTION).countDocuments({})).to.equal(0);
  });

  it('renews the lease while its holder is still working, so a slow holder keeps its lock past 15 s; a holder that stops renewing loses it', async () => {
    // The renewal timer is a seam: the test fires it, on the test's clock, instead of waiting.
    const beats: Array<() => Promise<void>> = [];
    const heartbeat = (_ms: number, beat: () => Promise<void>) => {
      beats.push(beat);
      return () => beats.splice(beats.indexOf(beat), 1);
    };
    const slow = documentLocks(connection, { now, heartbeat });
    let finish: () => void = () => {};
    let inside = 0;
    let most = 0;
    const enter = () => {
      inside += 1;
      most = Math.max(most, inside);
    };
    const working = slow.hold('probe:slow', async () => {
      enter();
      await new Promise<void>((resolve) => (finish = resolve));
      inside -= 1;
      return 'slow done';
    });
    while (beats.length === 0) await new Promise((resolve) => setImmediate(resolve));
    // 40 s of work in 10 s steps, the renewal firing at each: the lease never runs out.
    const impatient = documentLocks(connection, { now, maxWaitMs: 5, sleep: async () => {} });
    for (let step = 1; step <= 4; step += 1) {
      nowMs += 10_000;
      await Promise.all(beats.map((beat) => beat()));
      const refused = await impatient.hold('probe:slow', async () => enter()).catch((error: unknown) => error);
      expect(refused, `after ${step * 10} s`).to.be.instanceOf(StoreUnavailableError);
    }
    finish();
    expect(await working).to.equal('slow done');
    expect(beats, 'the renewal stops with the work').to.deep.equal([]);
    expect(most).to.equal(1);
    expect(await connection.collection(LOCK_COLLECTION).countDocuments({})).to.equal(0);

    // A holder whose renewals stop (its process froze) is taken over once the lease has run out.
    const frozen = documentLocks(connection, { now, heartbeat: () => () => {} });
    let thaw: () => void = () => {};
    const stuck = frozen.hold('probe:frozen', () => new Promise<void>((resolve) => (thaw = resolve)));
    while ((await connection.collection(LOCK_COLLECTION).countDocuments({ _id: 'probe:frozen' as never })) === 0) await new Promise((resolve) => setImmediate(resolve));
    nowMs += 16_000;
    expect(await impatient.hold('probe:frozen', async () => 'taken over')).to.equal('taken over');
    thaw();
    await stuck;
  });

  it('holdFree locks the free keys of many with one insert and leaves a held one out, without waiting', async () => {
    const locks = documentLocks(connection, { now });
    const impatient = documentLocks(connection, { now, maxWaitMs: 5, sleep: async () => {} });
    let finish: () => void = () => {};
    const holding = locks.hold('probe:many-2', () => new Promise<void>((resolve) => (finish = resolve)));
    while ((await connection.collection(LOCK_COLLECTION).countDocuments({ _id: 'probe:many-2' as never })) === 0) await new Promise((resolve) => setImmediate(resolve));
    const held = await locks.holdFree(['probe:many-1', 'probe:many-2', 'probe:many-3'], async (keys) => {
      // Held by this batch: another holder is refused meanwhile.
      for (const key of keys) expect(await impatient.hold(key, async () => 'got in').catch((error: unknown) => error), key).to.be.instanceOf(StoreUnavailableError);
      return keys;
    });
    expect(held).to.deep.equal(['probe:many-1', 'probe:many-3']);
    expect(await impatient.hold('probe:many-1', async () => 'free again')).to.equal('free again');
    finish();
    await holding;
    expect(await connection.collection(LOCK_COLLECTION).countDocuments({})).to.equal(0);
  });

  it('a holder whose work was refused (not a store outage) has released its lock when it answers', async () => {
    // The release's delete is held back by a link in front of the store: the answer must wait
    // for it, so the caller's next write (a corrected form, the next change) finds the key free.
    // Before, any failed work answered first and released in the background.
    const link = await faultyLink(database.uri);
    const own = await connectMongo({ uri: link.uri, timeoutMs: 5000 });
    const stall = link.stallNextReply(LOCK_COLLECTION, 'probe:refused', 'delete');
    let answered = false;
    try {
      const refused = documentLocks(own, { now })
        .hold('probe:refused', async () => {
          throw new Error('refused by a rule');
        })
        .finally(() => {
          answered = true;
        });
      await stall.stalled;
      for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
      expect(answered, 'answered before its lock was released').to.equal(false);
      stall.resume();
      expect(((await refused.catch((error: unknown) => error)) as Error).message).to.equal('refused by a rule');
      expect(await connection.collection(LOCK_COLLECTION).countDocuments({ _id: 'probe:refused' as never })).to.equal(0);
    } finally {
      stall.resume();
      await own.close();
      await link.close();
    }
  });

  it('a waiter in the same process takes the lock as soon as its holder releases it, not at the end of its pause', async () => {
    // Pauses that never end: only the release can let the waiter in.
    let paused: () => void = () => {};
    const pausing = new Promise<void>((resolve) => (paused = resolve));
    const waiter = documentLocks(connection, {
      now,
      sleep: () => {
        paused();
        return new Promise<void>(() => {});
      },
    });
    const holder = documentLocks(connection, { now });
    let finish: () => void = () => {};
    const holding = holder.hold('probe:handover', () => new Promise<void>((resolve) => (finish = resolve)));
    const probe = connection.collection(LOCK_COLLECTION);
    while ((await probe.countDocuments({ _id: 'probe:handover' as never })) === 0) await new Promise((resolve) => setImmediate(resolve));
    const waiting = waiter.hold('probe:handover', async () => 'handed over');
    await pausing;
    finish();
    await holding;
    expect(await waiting).to.equal('handed over');
    expect(await probe.countDocuments({})).to.equal(0);
  });

  it('a holder whose work failed (a store outage) answers at once, not after a renewal the store stopped answering', async function () {
    // Its own connection, through a link that holds back the renewal's reply: the store stopped
    // answering while the renewal was in flight. Without the fix this test hangs until mocha's timeout.
    const link = await faultyLink(database.uri);
    const own = await connectMongo({ uri: link.uri, timeoutMs: 5000 });
    const beats: Array<() => Promise<void>> = [];
    const locks = documentLocks(own, { now, heartbeat: (_ms, beat) => (beats.push(beat), () => beats.splice(beats.indexOf(beat), 1)) });
    const stall = link.stallNextReply(LOCK_COLLECTION, 'expiresAt', 'update');
    try {
      const failed = locks.hold('probe:outage', async () => {
        void beats[0]!();
        await stall.stalled;
        throw new StoreUnavailableError('mongodb', { cause: new Error('the write timed out') });
      });
      expect(await failed.catch((error: unknown) => error), 'the work\'s own error, at once').to.be.instanceOf(StoreUnavailableError);
    } finally {
      stall.resume();
      await own.close();
      await link.close();
    }
    // Its release followed the renewal in the background, on the connection closed above: the
    // lock is left to its lease; the next test starts clean.
    await connection.collection(LOCK_COLLECTION).deleteMany({ _id: 'probe:outage' as never });
  });
});
