import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import type { AdapterPayload } from 'oidc-provider';
import { createMongoAdapterFactory } from '../../src/storage/oidc/mongo-adapter.ts';
import { ensureOidcIndexes } from '../../src/storage/oidc/mongo-indexes.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const nanoid = () => randomBytes(16).toString('base64url');

function sessionPayload(id: string, uid: string, accountId = 'account-1', iat?: number): AdapterPayload {
  return { kind: 'Session', ...(iat === undefined ? {} : { iat }), jti: id, uid, accountId, loginTs: 1, exp: Math.floor(Date.now() / 1000) + 60, authorizations: { app: { sid: nanoid(), grantId: nanoid() } } } as AdapterPayload;
}

/**
 * Sessions by uid are primary-key reads (issue 21): oidc-provider looks a session up by uid for
 * every token bound to it. Checked on the commands the driver sends (filters included), against
 * the project's real MongoDB-wire server.
 */
describe('MongoDB adapter: a session found by its uid through its primary key', () => {
  const database = databaseForSuite('session_by_uid');
  let connection: Connection;
  const sent: Array<{ name: string; filters: unknown[] }> = [];
  const sessions = () => connection.db!.collection<{ _id: string }>('oidc_session');
  const adapter = () => createMongoAdapterFactory({ connection, reuseWindowSeconds: 0 })('Session');

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000, watchCommands: true });
    await ensureOidcIndexes(connection);
    connection.getClient().on('commandStarted', (event: { commandName: string; command: Record<string, unknown> }) => {
      const { command } = event;
      const statements = (command.updates ?? command.deletes ?? []) as Array<{ q: unknown }>;
      sent.push({ name: event.commandName, filters: command.filter !== undefined ? [command.filter] : statements.map((statement) => statement.q) });
    });
  });
  after(async () => {
    await connection.close();
  });
  beforeEach(() => {
    sent.length = 0;
  });

  it('writes the session and its uid copy in one command, and reads it by uid with one find by _id', async () => {
    const [id, uid] = [nanoid(), nanoid()];
    await adapter().upsert(id, sessionPayload(id, uid), 60);
    expect(sent.map((command) => command.name)).to.deep.equal(['update']);
    expect(sent[0]!.filters).to.deep.equal([{ _id: id }, { _id: `uid:${uid}` }]);

    sent.length = 0;
    const found = await adapter().findByUid(uid);
    expect(found).to.include({ jti: id, uid, accountId: 'account-1' });
    expect(sent).to.deep.equal([{ name: 'find', filters: [{ _id: `uid:${uid}` }] }]);
  });

  it('does not depend on the uid field: with it gone from the session, the lookup still finds it', async () => {
    const [id, uid] = [nanoid(), nanoid()];
    await adapter().upsert(id, sessionPayload(id, uid), 60);
    await sessions().updateOne({ _id: id }, { $unset: { uid: '' } });
    expect(await adapter().findByUid(uid)).to.include({ jti: id });
  });

  it('never answers a session id lookup with a uid copy, and lists each session once', async () => {
    const [id, uid] = [nanoid(), nanoid()];
    const accountId = `account-${nanoid()}`;
    await adapter().upsert(id, sessionPayload(id, uid, accountId), 60);
    expect(await adapter().find(`uid:${uid}`)).to.equal(undefined);
    expect(await sessions().countDocuments({ accountId })).to.equal(1);
    expect(await sessions().countDocuments({ uid })).to.equal(1);
  });

  it('destroys the copy with the session, copy first, each by _id alone', async () => {
    const [id, uid] = [nanoid(), nanoid()];
    await adapter().upsert(id, sessionPayload(id, uid), 60);
    sent.length = 0;
    await adapter().destroy(id);
    expect(sent.map((command) => command.name)).to.deep.equal(['find', 'delete']);
    expect(sent[1]!.filters).to.deep.equal([{ _id: `uid:${uid}` }, { _id: id }]);
    expect(await adapter().findByUid(uid)).to.equal(undefined);
    expect(await adapter().find(id)).to.equal(undefined);
    expect(await sessions().countDocuments({ _id: { $in: [id, `uid:${uid}`] } })).to.equal(0);
  });

  it('follows a new session id (sign-in again): the copy then names the new one', async () => {
    const [oldId, newId, uid] = [nanoid(), nanoid(), nanoid()];
    await adapter().upsert(oldId, sessionPayload(oldId, uid), 60);
    // oidc-provider's Session#save after resetIdentifier: destroy the old id, then upsert the new one.
    await adapter().destroy(oldId);
    await adapter().upsert(newId, sessionPayload(newId, uid), 60);
    expect(await adapter().findByUid(uid)).to.include({ jti: newId });
    expect(await adapter().find(oldId)).to.equal(undefined);
  });

  it('still finds the other of two sessions with the same uid once one is destroyed', async () => {
    const [first, second, uid] = [nanoid(), nanoid(), nanoid()];
    await adapter().upsert(first, sessionPayload(first, uid), 60);
    await adapter().upsert(second, sessionPayload(second, uid), 60);
    await adapter().destroy(first);
    expect(await adapter().findByUid(uid)).to.include({ jti: second });
  });

  it('still finds a session stored before uid copies existed (through the uid index)', async () => {
    const [id, uid] = [nanoid(), nanoid()];
    // What the adapter wrote before: the session alone.
    await sessions().insertOne({ _id: id, payload: JSON.stringify(sessionPayload(id, uid)), uid, accountId: 'account-1', expiresAt: new Date(Date.now() + 60_000) } as never);
    expect(await adapter().findByUid(uid)).to.include({ jti: id });
    await adapter().destroy(id);
    expect(await adapter().findByUid(uid)).to.equal(undefined);
  });

  /**
   * oidc-provider sets `iat` at a record's first save and keeps it: a session made just now is
   * written with one insert of both documents (FerretDB: one transaction instead of four), and
   * anything already there turns it into the upsert, with the upsert's outcome.
   */
  describe('a session the library has just made (iat now)', () => {
    const now = () => Math.floor(Date.now() / 1000);

    it('is written with one insert of the session and its copy', async () => {
      const [id, uid] = [nanoid(), nanoid()];
      const outcome = await adapter().upsert(id, sessionPayload(id, uid, 'account-1', now()), 60);
      expect(sent.map((command) => command.name)).to.deep.equal(['insert']);
      expect(outcome).to.deep.equal({ created: true });
      expect(await adapter().findByUid(uid)).to.include({ jti: id });
      expect(await adapter().find(id)).to.include({ jti: id, uid });
    });

    it('saved again within the same seconds: the refused insert becomes the upsert, the last save wins', async () => {
      const [id, uid] = [nanoid(), nanoid()];
      await adapter().upsert(id, sessionPayload(id, uid, 'account-1', now()), 60);
      sent.length = 0;
      const outcome = await adapter().upsert(id, sessionPayload(id, uid, 'account-2', now()), 60);
      expect(sent.map((command) => command.name)).to.deep.equal(['insert', 'update']);
      expect(outcome).to.deep.equal({ created: false });
      expect(await adapter().find(id)).to.include({ accountId: 'account-2' });
      expect(await adapter().findByUid(uid)).to.include({ accountId: 'account-2' });
      expect(await sessions().countDocuments({ _id: { $in: [id, `uid:${uid}`] } })).to.equal(2);
    });

    it("whose uid copy is another session's: the copy then names the new one, as the upsert does", async () => {
      const [first, second, uid] = [nanoid(), nanoid(), nanoid()];
      await adapter().upsert(first, sessionPayload(first, uid), 60);
      await adapter().upsert(second, sessionPayload(second, uid, 'account-1', now()), 60);
      expect(await adapter().findByUid(uid)).to.include({ jti: second });
      expect(await adapter().find(first)).to.include({ jti: first });
      expect(await adapter().find(second)).to.include({ jti: second });
    });

    it('other records too (a Grant): one insert when new, the upsert when saved again', async () => {
      const grants = createMongoAdapterFactory({ connection, reuseWindowSeconds: 0 })('Grant');
      const id = nanoid();
      const grant = (scope: string) => ({ kind: 'Grant', jti: id, iat: now(), exp: now() + 60, accountId: 'account-1', clientId: 'app', openid: { scope } }) as AdapterPayload;
      expect(await grants.upsert(id, grant('openid'), 60)).to.deep.equal({ created: true });
      expect(sent.map((command) => command.name)).to.deep.equal(['insert']);
      sent.length = 0;
      expect(await grants.upsert(id, grant('openid email'), 60)).to.deep.equal({ created: false });
      expect(sent.map((command) => command.name)).to.deep.equal(['insert', 'update']);
      expect(await grants.find(id)).to.deep.include({ openid: { scope: 'openid email' } });
    });
  });

  it('expires the copy with the session', async () => {
    const [id, uid] = [nanoid(), nanoid()];
    let clock = Date.now();
    const clocked = createMongoAdapterFactory({ connection, reuseWindowSeconds: 0, now: () => clock })('Session');
    await clocked.upsert(id, sessionPayload(id, uid), 1);
    const copy = await sessions().findOne({ _id: `uid:${uid}` });
    expect(copy).to.have.property('expiresAt').that.is.instanceOf(Date);
    clock += 2000;
    expect(await clocked.findByUid(uid)).to.equal(undefined);
  });
});
