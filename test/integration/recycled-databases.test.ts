import { expect } from 'chai';
import { emptyDatabase, emptyDatabaseUri, recycleDatabase } from '../helpers/stores.ts';
import { connectMongo } from '../../src/storage/mongo.ts';

/**
 * The test helpers hand emptied databases from one deployment to the next (test/helpers/stores.ts).
 * A database given back twice — a deployment dropped in the middle of a test, used again and
 * dropped in its after hook — was listed twice, so two later deployments with different
 * GATEHOUSE_SECRETs were handed the same database and one could not read the other's signing
 * keys (key-rotation, key-store and passkeys-ip-issuer failed so in the lead's full suite).
 */
describe('recycled test databases (test/helpers/stores.ts, real MongoDB-wire server)', function () {
  this.timeout(60_000);

  it('a database given back twice is handed out once', async () => {
    const uri = emptyDatabaseUri('recycled_twice');
    const connection = await connectMongo({ uri, timeoutMs: 5000 });
    try {
      await connection.db!.collection('things').insertOne({ made: true });
    } finally {
      await connection.close();
    }
    await recycleDatabase(uri);
    await recycleDatabase(uri);
    const first = emptyDatabaseUri('next');
    const second = emptyDatabaseUri('after');
    expect(second).to.not.equal(first);
    for (const taken of [first, second]) await recycleDatabase(taken);
  });

  it('emptyDatabase deletes every document and gives nothing back', async () => {
    const uri = emptyDatabaseUri('emptied_in_place');
    const connection = await connectMongo({ uri, timeoutMs: 5000 });
    try {
      await connection.db!.collection('things').insertMany([{ n: 1 }, { n: 2 }]);
      await emptyDatabase(uri);
      expect(await connection.db!.collection('things').countDocuments()).to.equal(0);
      const another = emptyDatabaseUri('another');
      expect(another).to.not.equal(uri);
      await recycleDatabase(another);
    } finally {
      await connection.close();
    }
    await recycleDatabase(uri);
  });
});
