import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { StoreUnavailableError } from '../../src/errors/store-unavailable.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { documentLocks, LOCK_COLLECTION } from '../../src/storage/document-locks.ts';
import { dropDatabase, freshDatabaseUri } from '../helpers/stores.ts';

/** The per-document lock on a real MongoDB-wire server (FerretDB in the suite). */
describe('document locks (real MongoDB-wire server)', function () {
  this.timeout(60_000);
  const uri = freshDatabaseUri('document_locks');
  let connection: Connection;
  let nowMs = Date.UTC(2026, 10, 29, 12);
  const now = () => nowMs;

  before(async () => {
    connection = await connectMongo({ uri, timeoutMs: 5000 });
  });
  after(async () => {
    await connection.close();
    await dropDatabase(uri);
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
});
