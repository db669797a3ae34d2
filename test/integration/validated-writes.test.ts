import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { apiModel } from '../../src/apis/model.ts';
import { InvalidRequestError } from '../../src/errors/gatehouse-error.ts';
import { labelModel } from '../../src/roles/model.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { insertValidated, upsertValidated } from '../../src/storage/validated-writes.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const api = (extra: Record<string, unknown> = {}) => ({
  _id: 'https://api.example.com',
  name: 'Example',
  scopes: ['read'],
  format: 'jwt' as const,
  alg: 'RS256' as const,
  accessTokenTtl: 600,
  includeRoles: false,
  includeGroups: false,
  createdAt: new Date(),
  updatedAt: new Date(),
  ...extra,
});

describe('writes go through the mongoose schemas', () => {
  const database = databaseForSuite('validated_writes');
  let connection: Connection;

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
  });

  after(async () => {
    await connection?.close();
  });

  it('refuses a document that breaks its schema before the database sees it, naming the fields', async () => {
    const model = apiModel(connection);
    const bad = api({ format: 'xml', accessTokenTtl: 'soon' });
    const error = await insertValidated(model, bad as never).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(error).to.be.instanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).details.map((d) => d.path).sort()).to.deep.equal(['accessTokenTtl', 'format']);
    expect(await model.countDocuments()).to.equal(0);
  });

  it('refuses unknown fields (strict schemas)', async () => {
    const error = await insertValidated(apiModel(connection), api({ secretBackdoor: true }) as never).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(error).to.be.instanceOf(InvalidRequestError);
    expect(await apiModel(connection).countDocuments()).to.equal(0);
  });

  it('stores a valid document as the schema casts it, and duplicates still fail with E11000', async () => {
    const model = labelModel(connection, 'role');
    await insertValidated(model, { _id: 'auditor', description: 'reads logs', createdAt: new Date() });
    const duplicate = await insertValidated(model, { _id: 'auditor', description: '', createdAt: new Date() }).then(
      () => undefined,
      (rejection: unknown) => rejection as { code?: unknown },
    );
    expect(duplicate?.code).to.equal(11000);
    expect(await model.findById('auditor').lean()).to.include({ description: 'reads logs' });
  });

  it('upserts: creates, then replaces, validating both times', async () => {
    const model = apiModel(connection);
    expect(await upsertValidated(model, api())).to.equal(true);
    expect(await upsertValidated(model, api({ name: 'Renamed' }))).to.equal(false);
    expect(await model.findById('https://api.example.com').lean()).to.include({ name: 'Renamed' });
    const error = await upsertValidated(model, api({ alg: 'none' }) as never).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(error).to.be.instanceOf(InvalidRequestError);
    expect(await model.findById('https://api.example.com').lean()).to.include({ alg: 'RS256' });
  });
});
