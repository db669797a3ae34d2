import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { insertCommand } from '../../src/storage/insert-command.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { freshDatabaseUri } from '../helpers/stores.ts';

/** The batch insert behind the audit trail: insertMany's outcome without its per-document bookkeeping. */
describe('insertCommand: a batch as one raw insert (real MongoDB-wire store)', () => {
  let mongo: Connection;

  before(async () => {
    mongo = await connectMongo({ uri: freshDatabaseUri('insert_command'), timeoutMs: 5000 });
  });
  after(async () => {
    await mongo.dropDatabase();
    await mongo.close();
  });

  const ids = async (name: string) => (await mongo.db!.collection(name).find().sort({ _id: 1 }).toArray()).map((doc) => doc._id as unknown as number);

  it('stores every document of the batch', async () => {
    await insertCommand<{ _id: number; n: string }>(mongo.db!, 'plain')([{ _id: 1, n: 'a' }, { _id: 2, n: 'b' }]);
    expect(await ids('plain')).to.deep.equal([1, 2]);
  });

  it('a retried batch that had partly gone through: the duplicates are skipped, the rest stored, no error', async () => {
    const insert = insertCommand<{ _id: number }>(mongo.db!, 'retried');
    await insert([{ _id: 1 }, { _id: 2 }]);
    await insert([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    expect(await ids('retried')).to.deep.equal([1, 2, 3]);
  });

  it('any other write error throws (the batch is tried again later), after storing what it could', async () => {
    const insert = insertCommand<Record<string, unknown>>(mongo.db!, 'refused');
    let error: unknown;
    await insert([{ _id: 1 }, { _id: 2, $bad: true }, { _id: 3 }]).catch((caught: unknown) => (error = caught));
    expect(error, 'a document the store refuses').to.be.instanceOf(Error);
    expect((error as { code?: number }).code).to.not.equal(11000);
    expect(await ids('refused')).to.deep.equal([1, 3]);
  });
});
