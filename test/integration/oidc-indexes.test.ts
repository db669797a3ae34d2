import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { startExpirySweeper } from '../../src/storage/oidc/expiry-sweeper.ts';
import { ensureOidcIndexes } from '../../src/storage/oidc/mongo-indexes.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { freshDatabaseUri } from '../helpers/stores.ts';

describe('oidc indexes and expiry on the MongoDB-wire server', () => {
  let connection: Connection;
  const warnings: { obj: object; msg: string }[] = [];
  const logger = { warn: (obj: object, msg: string) => warnings.push({ obj, msg }) };

  before(async () => {
    connection = await connectMongo({ uri: freshDatabaseUri('indexes'), timeoutMs: 5000 });
  });
  after(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('creates the lookup indexes and reports whether TTL indexes are missing (FerretDB v1)', async () => {
    const report = await ensureOidcIndexes(connection);
    const serverHasTtl = (await connection.db!.admin().command({ buildInfo: 1 })).ferretdbVersion === undefined;
    expect(report.ttlIndexes).to.equal(serverHasTtl);

    const indexes = async (name: string) => connection.db!.collection(name).listIndexes().toArray();
    const session = await indexes('oidc_session');
    expect(session.find((i) => i.key.uid === 1)).to.include({ name: 'uid_1' }).and.not.have.property('unique');
    const device = await indexes('oidc_device_code');
    expect(device.find((i) => i.key.userCode === 1)).to.have.property('unique', true);
    // Grants are found by user and by client (wholesale revocation); their members only by grant:
    // an index on a member's accountId or clientId would serve no query and cost every token written.
    expect((await indexes('oidc_grant')).map((i) => Object.keys(i.key).join(','))).to.include.members(['accountId', 'clientId']);
    for (const name of ['oidc_access_token', 'oidc_refresh_token', 'oidc_authorization_code']) {
      const keys = (await indexes(name)).map((i) => Object.keys(i.key).join(','));
      expect(keys, name).to.include('grantId').and.not.include('accountId').and.not.include('clientId');
    }
    // Expiry: a TTL index where the server has them; on FerretDB v1 none at all — the sweeper's
    // `expiresAt < now` is never pushed down there (it scans), so an index would only cost every insert.
    for (const name of ['oidc_session', 'oidc_grant', 'oidc_refresh_token', 'oidc_access_token', 'oidc_consumption']) {
      const expiry = (await indexes(name)).filter((i) => Object.keys(i.key).includes('expiresAt'));
      if (serverHasTtl) expect(expiry.map((i) => [i.name, i.expireAfterSeconds]), name).to.deep.equal([['expiresAt_ttl', 0]]);
      else expect(expiry.map((i) => i.name), name).to.deep.equal([]);
    }
    // Every collection exists after startup (no collection made by a request's first insert).
    const existing = (await connection.db!.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    expect(existing).to.include.members(['oidc_interaction', 'oidc_replay_detection', 'oidc_consumption', 'oidc_session']);
    expect((await indexes('oidc_access_token')).some((i) => i.key.userCode === 1)).to.equal(false);

    // Idempotent: a second start finds everything in place.
    expect((await ensureOidcIndexes(connection)).ttlIndexes).to.equal(serverHasTtl);
  });

  it("drops the grant members' accountId and clientId indexes an earlier version created, and keeps an operator's own", async () => {
    const tokens = connection.db!.collection('oidc_refresh_token');
    await tokens.createIndex({ accountId: 1 }); // accountId_1, as earlier versions named it
    await tokens.createIndex({ clientId: 1 });
    await tokens.createIndex({ clientId: 1, grantId: 1 }, { name: 'operators_own' });
    const report = await ensureOidcIndexes(connection);
    expect(report.dropped).to.have.members(['oidc_refresh_token.accountId_1', 'oidc_refresh_token.clientId_1']);
    const names = (await tokens.listIndexes().toArray()).map((i) => i.name as string);
    expect(names).to.include.members(['grantId_1', 'operators_own']).and.not.include('accountId_1').and.not.include('clientId_1');
    expect((await connection.db!.collection('oidc_grant').listIndexes().toArray()).map((i) => i.name)).to.include.members(['accountId_1', 'clientId_1']);
    expect((await ensureOidcIndexes(connection)).dropped).to.deep.equal([]);
    await tokens.dropIndex('operators_own');
  });

  it('sweeps expired records and keeps live ones; stop() ends the timer', async () => {
    const tokens = connection.db!.collection<{ _id: string; expiresAt?: Date }>('oidc_access_token');
    const past = new Date(Date.now() - 1_000);
    const future = new Date(Date.now() + 60_000);
    await tokens.insertMany([
      { _id: 'expired-1', expiresAt: past },
      { _id: 'expired-2', expiresAt: past },
      { _id: 'live', expiresAt: future },
      { _id: 'forever' },
    ]);
    const sweeper = startExpirySweeper({ connection, collections: ['oidc_access_token'], intervalMs: 50, logger });
    try {
      // Polled until swept (a 50 ms timer); the limit only stops a broken sweeper from hanging the test.
      const deadline = Date.now() + 30_000;
      while ((await tokens.countDocuments()) > 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await sweeper.stop();
    }
    expect((await tokens.find().toArray()).map((d) => d._id).sort()).to.deep.equal(['forever', 'live']);
    await tokens.insertOne({ _id: 'expired-3', expiresAt: past });
    // Not a pause for the timer to (not) fire: a timer armed now for three intervals fires after
    // every tick the stopped 50 ms interval could still have had (Node runs due timers in the
    // order they fall due), and a second stop() waits for a pass such a tick would have started.
    await new Promise((resolve) => setTimeout(resolve, 3 * 50));
    await sweeper.stop();
    expect(await tokens.countDocuments({ _id: 'expired-3' }), 'no pass after stop()').to.equal(1);
    expect(await sweeper.sweepOnce()).to.equal(1);
  });
});
