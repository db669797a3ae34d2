import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import type { AdapterPayload } from 'oidc-provider';
import { CONSUMPTION_COLLECTION } from '../../src/storage/oidc/mongo-documents.ts';
import { createMongoAdapterFactory } from '../../src/storage/oidc/mongo-adapter.ts';
import { ensureOidcIndexes } from '../../src/storage/oidc/mongo-indexes.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const id = () => randomBytes(12).toString('base64url');
const code = () => ({ kind: 'AuthorizationCode', grantId: id(), accountId: 'a', clientId: 'c' }) as AdapterPayload;

async function rejection(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: { error?: string; error_description?: string }) => `${error.error}: ${error.error_description}`,
  );
}

/** consume() on MongoDB-wire: a read, the exactly-once gate insert, then an update by `_id`. */
describe('MongoDB adapter consume (FerretDB): unknown, expired and consumed records', () => {
  const database = databaseForSuite('mongo_consume');
  let connection: Connection;
  let clock = Date.now();
  const adapter = () => createMongoAdapterFactory({ connection, reuseWindowSeconds: 0, now: () => clock })('AuthorizationCode');

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    await ensureOidcIndexes(connection);
  });
  after(async () => {
    await connection.close();
  });

  it('marks an unconsumed record once and refuses the second consume', async () => {
    const key = id();
    await adapter().upsert(key, code(), 60);
    await adapter().consume(key);
    expect(await adapter().find(key)).to.have.property('consumed').that.is.a('number');
    expect(await rejection(adapter().consume(key))).to.equal('invalid_grant: grant request is invalid');
  });

  it('refuses an unknown record without marking anything', async () => {
    const key = id();
    expect(await rejection(adapter().consume(key))).to.match(/^invalid_grant/);
    expect(await connection.db!.collection('oidc_authorization_code').countDocuments({ _id: key as never })).to.equal(0);
  });

  it('refuses an expired record and leaves it unconsumed', async () => {
    const key = id();
    await adapter().upsert(key, code(), 1);
    clock += 2000;
    expect(await rejection(adapter().consume(key))).to.match(/^invalid_grant/);
    const stored = await connection.db!.collection('oidc_authorization_code').findOne({ _id: key as never });
    expect(stored).to.not.have.property('consumed');
  });

  it('still refuses a consumed record once its gate has expired and been swept', async () => {
    const key = id();
    await adapter().upsert(key, code(), 3600);
    await adapter().consume(key);
    const documents = connection.db!.collection('oidc_authorization_code');
    const first = (await documents.findOne({ _id: key as never }))?.consumedAtMs;
    await connection.db!.collection(CONSUMPTION_COLLECTION).deleteOne({ _id: `AuthorizationCode:${key}` as never });
    clock += 5000;
    expect(await rejection(adapter().consume(key))).to.match(/^invalid_grant/);
    expect((await documents.findOne({ _id: key as never }))?.consumedAtMs, 'the first consumption time is kept').to.be.a('number').and.to.equal(first);
  });
});
