import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { clientModel } from '../../src/clients/model.ts';
import { createClientRepository, PREVIOUS_CLIENT_SECRET, PREVIOUS_CLIENT_SECRET_UNTIL, TOKENS_REVOKED_AT, type ClientRepository } from '../../src/clients/repository.ts';
import { createSecretBox } from '../../src/crypto/secret-box.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

const service = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };

/**
 * Probe (probe26): the provider's Client adapter carries Gatehouse's own fields beside a client's
 * metadata (the secret before a rotation and its grace, the tokens-revoked mark: src/clients/
 * repository.ts providerMetadata), and src/clients/previous-secret.ts takes a previous secret from
 * there. A client's stored metadata spread first: an edited `gatehouse import` file whose metadata
 * named them gave the client a second secret with a grace of its choosing — never ended by a
 * rotation without grace — shown in the clear by the admin API's metadata. They are never metadata.
 */
describe('probe: a client metadata member named as one of Gatehouse\'s internal fields (real MongoDB-wire)', () => {
  const database = databaseForSuite('probe_client_internal_keys');
  let connection: Connection;
  let clients: ClientRepository;

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    clients = createClientRepository({ model: clientModel(connection), box: createSecretBox(randomSecret(), 'client-secrets') });
  });
  after(async () => {
    await connection.close();
  });

  it('gatehouse import: is not stored, so it opens nothing and shows nothing', async () => {
    const now = new Date().toISOString();
    const metadata = { ...service, [PREVIOUS_CLIENT_SECRET]: 'a-second-secret-of-the-file', [PREVIOUS_CLIENT_SECRET_UNTIL]: 9_999_999_999_999, [TOKENS_REVOKED_AT]: 0 };
    await clients.importOne({ clientId: 'edited', displayName: 'Edited', firstParty: false, allowedApis: [], webOrigins: [], admin: false, metadata, secret: 'the-secret-of-the-file', createdAt: now, updatedAt: now });
    const provided = (await clients.providerMetadata('edited')) as Record<string, unknown>;
    expect(provided[PREVIOUS_CLIENT_SECRET]).to.equal(undefined);
    expect(provided[PREVIOUS_CLIENT_SECRET_UNTIL]).to.equal(undefined);
    expect(provided[TOKENS_REVOKED_AT]).to.be.greaterThan(0);
    expect(Object.keys((await clients.get('edited'))!.metadata)).to.not.include.members([PREVIOUS_CLIENT_SECRET, PREVIOUS_CLIENT_SECRET_UNTIL, TOKENS_REVOKED_AT]);
  });

  it('create and update through the repository: the same', async () => {
    await clients.create({ clientId: 'direct', displayName: 'Direct', metadata: { ...service, [PREVIOUS_CLIENT_SECRET]: 'x-secret', [PREVIOUS_CLIENT_SECRET_UNTIL]: 9_999_999_999_999 } });
    expect(((await clients.providerMetadata('direct')) as Record<string, unknown>)[PREVIOUS_CLIENT_SECRET]).to.equal(undefined);
    await clients.update('direct', { metadata: { ...service, [PREVIOUS_CLIENT_SECRET]: 'y-secret', [PREVIOUS_CLIENT_SECRET_UNTIL]: 9_999_999_999_999 } });
    expect(((await clients.providerMetadata('direct')) as Record<string, unknown>)[PREVIOUS_CLIENT_SECRET]).to.equal(undefined);
  });
});
