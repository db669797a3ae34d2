import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { apiModel } from '../../src/apis/model.ts';
import { createApiRegistry } from '../../src/apis/registry.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { dropDatabase, freshDatabaseUri } from '../helpers/stores.ts';

describe('API registry (real MongoDB-wire)', () => {
  const uri = freshDatabaseUri('api_registry');
  let connection: Connection;
  before(async () => {
    connection = await connectMongo({ uri, timeoutMs: 5000 });
  });
  after(async () => {
    await connection.close();
    await dropDatabase(uri);
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
    await registry.create({ identifier: 'not a uri' }).catch((caught: unknown) => (error = caught));
    expect(String(error)).to.match(/absolute URI/);
    await registry.create({ identifier: 'https://dup.example.com' });
    await registry.create({ identifier: 'https://dup.example.com' }).catch((caught: unknown) => (error = caught));
    expect((error as Error).name).to.equal('ApiConflictError');
  });
});
