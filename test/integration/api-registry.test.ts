import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { apiModel } from '../../src/apis/model.ts';
import { createApiRegistry } from '../../src/apis/registry.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { databaseForSuite } from '../helpers/stores.ts';

describe('API registry (real MongoDB-wire)', function () {
  this.timeout(60_000);
  const database = databaseForSuite('api_registry');
  let connection: Connection;
  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
  });
  after(async () => {
    await connection.close();
  });

  it('does not remember misses: an API created elsewhere is found at once, and unknown resources cost no memory', async () => {
    const reader = createApiRegistry({ model: apiModel(connection), cacheTtlMs: 60_000 });
    const writer = createApiRegistry({ model: apiModel(connection) });
    for (let i = 0; i < 50; i++) expect(await reader.find(`https://unknown.example.com/${i}`)).to.equal(undefined);
    expect(await reader.find('https://new.example.com')).to.equal(undefined);
    await writer.create({ identifier: 'https://new.example.com', scopes: ['read'] });
    expect((await reader.find('https://new.example.com'))?.scopes).to.deep.equal(['read']);
  });

  it('refuses malformed identifiers and duplicates', async () => {
    const registry = createApiRegistry({ model: apiModel(connection) });
    let error: unknown;
    await registry.create({ identifier: 'not a database.uri' }).catch((caught: unknown) => (error = caught));
    expect(String(error)).to.match(/absolute URI/);
    await registry.create({ identifier: 'https://dup.example.com' });
    await registry.create({ identifier: 'https://dup.example.com' }).catch((caught: unknown) => (error = caught));
    expect((error as Error).name).to.equal('ApiConflictError');
  });

  it('keeps both of two edits of one API made at once (an operator\'s edit and the introspection client\'s assignment, 30 rounds)', async () => {
    // FerretDB v1 rewrites the whole document on every update: without the API's lock one `$set`
    // put back the other's old fields (docs/STORAGE.md).
    const first = createApiRegistry({ model: apiModel(connection) });
    const second = createApiRegistry({ model: apiModel(connection) });
    await first.create({ identifier: 'https://race.example.com', scopes: ['read'] });
    const lost: string[] = [];
    for (let round = 1; round <= 30; round += 1) {
      await Promise.all([first.update('https://race.example.com', { name: `Race ${round}` }), second.setClient('https://race.example.com', `client-${round}`)]);
      const stored = await apiModel(connection).findById('https://race.example.com').lean().exec();
      if (stored?.name !== `Race ${round}`) lost.push(`${round}: name ${stored?.name}`);
      if (stored?.clientId !== `client-${round}`) lost.push(`${round}: clientId ${stored?.clientId}`);
    }
    expect(lost, 'rounds that lost one of the two edits').to.deep.equal([]);
  });
});
