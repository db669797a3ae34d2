import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { clientModel, type ClientModel, type StoredClientRecord } from '../../src/clients/model.ts';
import { createClientRepository, PREVIOUS_CLIENT_SECRET, PREVIOUS_CLIENT_SECRET_UNTIL, type ClientRepository, type ExportedClient } from '../../src/clients/repository.ts';
import { createSecretBox } from '../../src/crypto/secret-box.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { testClock } from '../helpers/clock.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

const service = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
const HOUR = 3_600_000;

/**
 * The secret before a rotation with a grace period keeps authenticating only while the secret it
 * was rotated to is the current one: a new secret set any other way (a dynamic-registration
 * update, a Keycloak or `gatehouse import`) replaced the client's secret on purpose and ends it.
 * An export taken during a grace carries it (with its expiry), so a deployment moved mid-rotation
 * keeps accepting it until then. Real MongoDB-wire store; time moves on a test clock.
 */
describe('a previous client secret when the secret is replaced otherwise than by a rotation (real MongoDB-wire)', () => {
  const database = databaseForSuite('clients_previous_replaced');
  const clock = testClock();
  let connection: Connection;
  let clients: ClientRepository;
  let elsewhere: ClientRepository;

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    const repository = (secret: string, model: ClientModel) => createClientRepository({ model, box: createSecretBox(secret, 'client-secrets'), now: () => new Date(clock.now()) });
    const model = clientModel(connection);
    clients = repository(randomSecret(), model);
    // Another deployment (another GATEHOUSE_SECRET, its own collection) that takes an export.
    elsewhere = repository(randomSecret(), connection.model<StoredClientRecord>('ClientElsewhere', model.schema, 'clients_elsewhere'));
  });
  after(async () => {
    await connection.close();
  });

  /** A client mid-rotation: its first secret accepted for an hour more. */
  async function midRotation(clientId: string): Promise<{ old: string; current: string }> {
    const { secret: old } = await clients.create({ clientId, displayName: clientId, metadata: service });
    const rotated = await clients.rotateSecret(clientId, new Date(clock.now() + HOUR));
    expect(rotated?.client.previousSecretExpiresAt).to.be.instanceOf(Date);
    return { old: old!, current: rotated!.secret! };
  }
  const previousOf = async (clientId: string, repository = clients) => {
    const metadata = (await repository.providerMetadata(clientId)) as Record<string, unknown> | undefined;
    return { secret: metadata?.[PREVIOUS_CLIENT_SECRET], until: metadata?.[PREVIOUS_CLIENT_SECRET_UNTIL], shown: (await repository.get(clientId))?.previousSecretExpiresAt };
  };
  const exportedOf = async (clientId: string, repository = clients): Promise<ExportedClient> => {
    for await (const client of repository.exportEach()) if (client.clientId === clientId) return client;
    throw new Error(`${clientId} not exported`);
  };

  it('a dynamic-registration update that sets a new secret ends the previous one; one that keeps the secret keeps it', async () => {
    const { old, current } = await midRotation('registered-new');
    const saved = await clients.saveRegistered('registered-new', { ...service, client_secret: 'a-secret-the-registration-issued' });
    expect(saved?.fields).to.include('client_secret');
    expect(await previousOf('registered-new')).to.deep.equal({ secret: undefined, until: undefined, shown: undefined });
    expect(old).to.not.equal(current);

    const kept = await midRotation('registered-same');
    await clients.saveRegistered('registered-same', { ...service, client_name: 'Renamed', client_secret: kept.current });
    const previous = await previousOf('registered-same');
    expect(previous.secret).to.equal(kept.old);
    expect(previous.shown).to.be.instanceOf(Date);
  });

  it('an import (Keycloak or gatehouse import) that sets a new secret ends the previous one; one with the same secret keeps it', async () => {
    const { current } = await midRotation('imported-new');
    const exported = await exportedOf('imported-new');
    // As the Keycloak import hands a client over: the file's secret, no previous one.
    const { previousSecret: _, ...fromKeycloak } = exported;
    expect(await clients.importOne({ ...fromKeycloak, secret: 'the-secret-keycloak-holds' })).to.equal('updated');
    expect(await previousOf('imported-new')).to.deep.equal({ secret: undefined, until: undefined, shown: undefined });
    expect((await clients.providerMetadata('imported-new'))?.client_secret).to.equal('the-secret-keycloak-holds').and.not.equal(current);

    const kept = await midRotation('imported-same');
    const { previousSecret: __, ...same } = await exportedOf('imported-same');
    expect(await clients.importOne({ ...same, displayName: 'Imported again' })).to.equal('updated');
    expect((await previousOf('imported-same')).secret).to.equal(kept.old);
  });

  it('an export during a grace carries the previous secret with its expiry, and an import elsewhere accepts it until then; after the grace it is not carried', async () => {
    const { old, current } = await midRotation('moved');
    const until = (await clients.get('moved'))!.previousSecretExpiresAt!;
    const exported = await exportedOf('moved');
    expect(exported.previousSecret).to.deep.equal({ secret: old, expiresAt: until.toISOString() });
    expect(await elsewhere.importOne(exported)).to.equal('created');
    const moved = await previousOf('moved', elsewhere);
    expect(moved).to.deep.equal({ secret: old, until: until.getTime(), shown: until });
    expect((await elsewhere.providerMetadata('moved'))?.client_secret).to.equal(current);

    // Sealed at rest under the other deployment's secret, like the current one.
    const raw = await connection.db!.collection('clients_elsewhere').findOne({ _id: 'moved' as never });
    expect(raw?.previousSecretSealed).to.match(/^v1\./);
    expect(JSON.stringify(raw)).to.not.include(old);

    await clock.advance(HOUR + 1_000);
    expect((await exportedOf('moved')).previousSecret).to.equal(undefined);
    // A file written during the grace, imported after it: the old secret is not revived.
    expect(await elsewhere.importOne({ ...exported, clientId: 'moved-late' })).to.equal('created');
    expect((await previousOf('moved-late', elsewhere)).secret).to.equal(undefined);
  });
});
