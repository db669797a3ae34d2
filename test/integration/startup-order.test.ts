import { createServer, type AddressInfo, type Server } from 'node:net';
import { expect } from 'chai';
import { KeyStoreError } from '../../src/keys/key-store.ts';
import { StartupError } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { startInstance } from '../helpers/instance.ts';
import { runMain } from '../helpers/process.ts';
import { databasesForSuite, randomSecret } from '../helpers/stores.ts';

const BOOTSTRAP_ADMIN = { GATEHOUSE_ADMIN_USERNAME: 'root', GATEHOUSE_ADMIN_PASSWORD: 'bootstrap-password-1', GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' };

/** Every document in the database, by collection (collections left empty not listed): what a start wrote there. */
async function documents(mongodbUri: string): Promise<Record<string, number>> {
  const connection = await connectMongo({ uri: mongodbUri, timeoutMs: 5000 });
  try {
    const counts: Record<string, number> = {};
    for (const { name } of await connection.db!.listCollections().toArray()) {
      const count = await connection.db!.collection(name).countDocuments();
      if (count > 0) counts[name] = count;
    }
    return counts;
  } finally {
    await connection.close();
  }
}

/** A port something else listens on (on 127.0.0.1, where the tests' instances listen). */
async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  return { port, server };
}

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

  for (const setting of ['PORT', 'GATEHOUSE_METRICS_PORT']) {
    it(`a ${setting} something else listens on stops startup naming it before anything is written (no administrator, admin audience, built-in clients, keys)`, async () => {
      const mongodbUri = database(`startup_${setting.toLowerCase()}_busy`, { fresh: true });
      const busy = await occupiedPort();
      let error: unknown;
      try {
        const started = await startInstance({ mongodbUri, secret: randomSecret(), settings: { ...BOOTSTRAP_ADMIN, [setting]: String(busy.port) } });
        await started.close();
      } catch (caught) {
        error = caught;
      } finally {
        busy.server.close();
      }
      expect(error).to.be.instanceOf(StartupError);
      expect((error as StartupError).setting).to.equal(setting);
      expect((error as StartupError).message).to.equal(`${setting}: ${busy.port} on 127.0.0.1 is already in use (another Gatehouse or npm run dev?); choose another port`);
      expect(await documents(mongodbUri)).to.deep.equal({});
    });
  }

  it('with GATEHOUSE_WORKERS, a PORT in use stops the supervisor in one line naming PORT before any worker writes anything', async () => {
    const mongodbUri = database('startup_workers_port_busy', { fresh: true });
    const busy = await occupiedPort();
    try {
      const exit = await runMain({
        NODE_ENV: 'production',
        GATEHOUSE_ISSUER: 'https://sso.example.com',
        HOST: '127.0.0.1',
        PORT: String(busy.port),
        GATEHOUSE_WORKERS: '2',
        MONGODB_URI: mongodbUri,
        GATEHOUSE_SECRET: randomSecret(),
        ...BOOTSTRAP_ADMIN,
      });
      expect(exit.code, exit.stderr).to.equal(1);
      expect(exit.stderr).to.equal(`gatehouse: PORT: ${busy.port} on 127.0.0.1 is already in use (another Gatehouse or npm run dev?); choose another port\n`);
      expect(exit.stdout, 'no worker started, no stack trace').to.not.include('worker').and.not.include('"stack"');
    } finally {
      busy.server.close();
    }
    expect(await documents(mongodbUri)).to.deep.equal({});
  });
});
