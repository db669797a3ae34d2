import { expect } from 'chai';
import { KeyStoreError } from '../../src/keys/key-store.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { startInstance } from '../helpers/instance.ts';
import { databasesForSuite, randomSecret } from '../helpers/stores.ts';

/** What a start wrote: the users, the roles and the clients it holds, and the audit events about users. */
async function written(mongodbUri: string): Promise<{ users: number; roles: string[]; clients: string[]; userEvents: number }> {
  const connection = await connectMongo({ uri: mongodbUri, timeoutMs: 5000 });
  try {
    const db = connection.db!;
    const users = await db.collection('users').countDocuments();
    const roles = (await db.collection('roles').find().toArray()).map((role) => String(role.name ?? role._id)).sort();
    const clients = (await db.collection('clients').find().toArray()).map((client) => String(client._id)).sort();
    const userEvents = await db.collection('audit_events').countDocuments({ type: 'user.created' });
    return { users, roles, clients, userEvents };
  } finally {
    await connection.close();
  }
}

describe('startup order (real MongoDB-wire server)', function () {
  // Two instance starts (key generation, module compilation) at load.
  this.timeout(120_000);
  const database = databasesForSuite();

  it('a wrong GATEHOUSE_SECRET stops startup naming it before the bootstrap administrator or anything else is written', async () => {
    const mongodbUri = database('startup_wrong_secret');
    // Keys sealed under secret A; no administrator settings, so none is made.
    const first = await startInstance({ mongodbUri, secret: randomSecret() });
    await first.close();
    const before = await written(mongodbUri);
    expect(before.users).to.equal(0);

    let error: unknown;
    try {
      const wrong = await startInstance({
        mongodbUri,
        secret: randomSecret(),
        settings: { GATEHOUSE_ADMIN_USERNAME: 'root', GATEHOUSE_ADMIN_PASSWORD: 'bootstrap-password-1', GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' },
      });
      await wrong.close();
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(KeyStoreError);
    expect((error as KeyStoreError).setting).to.equal('GATEHOUSE_SECRET');
    expect(await written(mongodbUri)).to.deep.equal(before);
  });
});
