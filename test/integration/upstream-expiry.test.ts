import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { dateClock } from '../../src/clock.ts';
import { createSecretBox } from '../../src/crypto/secret-box.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import type { Sweeper } from '../../src/storage/expiry.ts';
import { startUpstreamExpiry } from '../../src/upstream/expiry.ts';
import { createLinkTickets, LINK_TICKET_TTL_MS, LINK_TICKETS_COLLECTION } from '../../src/upstream/link-tickets.ts';
import { createUpstreamSessions, UPSTREAM_SESSIONS_COLLECTION } from '../../src/upstream/sessions.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

/**
 * FerretDB v1 has no TTL indexes: upstream_sessions and upstream_link_tickets rows are deleted
 * by the periodic expiry sweeper once they expire, not only when the next upstream sign-in
 * comes. The clock is moved (the sweeper sweeps on a clock jump), never waited for.
 */
describe('Upstream sessions and link tickets expire without TTL indexes (the sweeper)', () => {
  const database = databaseForSuite('upstream_expiry');
  let connection: Connection;
  let clock: TestClock;
  let sweeper: Sweeper | undefined;
  const ids = async (collection: string) => (await connection.db!.collection<{ _id: string }>(collection).find({}).toArray()).map((doc) => doc._id).sort();

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    clock = testClock({ frozen: true });
    // The users the rows name exist: a row of a user that does not is removed as it is written (src/accounts/deleted-user-rows.ts).
    await connection.db!.collection<{ _id: string }>('users').insertMany([{ _id: 'u-1' }, { _id: 'u-2' }]);
    sweeper = await startUpstreamExpiry({ mongo: connection, logger: { warn() {} }, now: dateClock(clock), onClockJump: clock.onJump, intervalMs: 3_600_000 });
  });
  after(async () => {
    sweeper?.stop();
    await connection.close();
  });

  it('runs a sweeper on the test server (FerretDB v1 answers NotImplemented to TTL indexes)', () => {
    expect(sweeper, 'a sweeper').to.not.equal(undefined);
  });

  it('deletes an upstream session once its expiry passes, with no upstream sign-in in between', async () => {
    const sessions = createUpstreamSessions({ mongo: connection, box: createSecretBox(randomSecret(), 'upstream-sessions'), now: dateClock(clock) });
    await sessions.remember('short-session', { provider: 'corp', accountId: 'u-1', idToken: 'upstream.id.token' }, new Date(clock.now() + 60_000));
    await sessions.remember('long-session', { provider: 'corp', accountId: 'u-2', idToken: undefined }, new Date(clock.now() + 3_600_000));

    await clock.advance(59_000);
    expect(await ids(UPSTREAM_SESSIONS_COLLECTION)).to.deep.equal(['long-session', 'short-session']);
    await clock.advance(1_000);
    expect(await ids(UPSTREAM_SESSIONS_COLLECTION)).to.deep.equal(['long-session']);
    expect(await sessions.take('long-session')).to.include({ provider: 'corp', accountId: 'u-2' });
  });

  it('deletes a link ticket nobody took once its two minutes are over', async () => {
    const tickets = createLinkTickets({ mongo: connection, now: dateClock(clock) });
    const id = await tickets.issue({ userId: 'u-1', provider: 'corp' });
    await clock.advance(LINK_TICKET_TTL_MS - 1);
    expect(await ids(LINK_TICKETS_COLLECTION)).to.deep.equal([id]);
    await clock.advance(1);
    expect(await ids(LINK_TICKETS_COLLECTION)).to.deep.equal([]);
    expect(await tickets.take(id, 'corp')).to.equal(undefined);
  });
});
