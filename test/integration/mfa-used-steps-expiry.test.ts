import { expect } from 'chai';
import type { Connection } from 'mongoose';
import type { FactorEvent, Factors } from '../../src/mfa/factors.ts';
import { openFactors } from '../../src/mfa/setup.ts';
import { totpCode, type TotpParameters } from '../../src/mfa/totp.ts';
import { startUsedStepExpiry } from '../../src/mfa/used-step-expiry.ts';
import type { Sweeper } from '../../src/storage/expiry.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { accountsHarness, type AccountsHarness } from '../helpers/accounts.ts';
import { testClock } from '../helpers/clock.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const PERIOD = 30;
const IP = '203.0.113.7';

/**
 * `mfa_used_steps`, the TOTP replay guard between instances, expires by itself (`expiresAt`, the
 * end of the last step at which a code of the used one is still taken): a TTL index on MongoDB, the
 * expiry sweeper on FerretDB v1 — so a sign-in with a code no longer reads `users` to clean up after
 * a user deleted meanwhile, nor deletes older steps. Real MongoDB-wire server; the second factors'
 * clock and the sweeper's are the test's, nothing sleeps.
 */
describe('TOTP used steps expire by themselves (real store, test clock)', () => {
  const database = databaseForSuite('mfa_used_steps_expiry');
  let connection: Connection;
  let h: AccountsHarness;
  let factors: Factors;
  let sweeper: Sweeper | undefined;
  let at = new Date('2026-03-01T10:00:10Z');
  const events: FactorEvent[] = [];
  const commands: Array<{ name: string; collection: unknown }> = [];
  let secret = '';
  let parameters: TotpParameters;
  const userId = 'used-steps-user';
  const rows = () => connection.db!.collection<{ _id: string; step: number; expiresAt?: Date }>('mfa_used_steps').find({ userId }).sort({ step: 1 }).toArray();
  const stepAt = (date: Date) => Math.floor(date.getTime() / 1000 / PERIOD);

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000, watchCommands: true });
    h = await accountsHarness({ connection, clock: testClock({ frozen: true }) });
    factors = await openFactors({ mongo: connection, secret: 'a-test-secret-of-at-least-32-characters', limiter: h.limiter, now: () => at, onEvent: (event) => void events.push(event) });
    await connection.db!.collection<{ _id: string }>('users').insertOne({ _id: userId, usernameKey: userId, emailKey: `${userId}@example.com` } as never);
    // A row an earlier version wrote (no expiry): gone at the first start that has the sweeper.
    await connection.db!.collection('mfa_used_steps').insertOne({ _id: `${userId}:1000`, userId, step: 1000 } as never);
    sweeper = await startUsedStepExpiry({ mongo: connection, logger: { warn: () => undefined }, now: () => at, intervalMs: 3_600_000 });
    ({ secret, parameters } = await factors.beginTotp(userId));
    const confirmed = await factors.confirmTotp(userId, totpCode(secret, at, parameters), IP);
    expect(confirmed.ok, 'the app is enrolled').to.equal(true);
    connection.getClient().on('commandStarted', (event: { commandName: string; command: Record<string, unknown> }) => {
      commands.push({ name: event.commandName, collection: event.command[event.commandName] });
    });
  });
  after(async () => {
    await sweeper?.stop();
    await h.close();
    await connection.close();
  });

  it('a start removes the rows written before they had an expiry, and gives the collection its expiry', async () => {
    expect((await rows()).map((row) => row.step)).to.deep.equal([stepAt(at)]);
    if (sweeper === undefined) {
      // MongoDB: a TTL index does it.
      const indexes = await connection.db!.collection('mfa_used_steps').indexes();
      expect(indexes.find((index) => index.name === 'expiresAt_ttl')?.expireAfterSeconds).to.equal(0);
    }
  });

  it('a code at sign-in: its step kept until its window ends, no read of users and no delete', async () => {
    at = new Date(at.getTime() + 2 * PERIOD * 1000);
    commands.length = 0;
    const verified = await factors.verify(userId, totpCode(secret, at, parameters), IP);
    expect(verified.ok).to.equal(true);
    const touched = commands.filter((command) => command.collection === 'users' || command.collection === 'mfa_used_steps').map((command) => `${command.name} ${String(command.collection)}`);
    expect(touched, 'one insert of the used step, nothing else').to.deep.equal(['insert mfa_used_steps']);
    const step = stepAt(at);
    const row = (await rows()).find((one) => one.step === step)!;
    // The default look-ahead (1 step): a code of this step is taken until the end of the next one.
    expect(row.expiresAt?.toISOString()).to.equal(new Date((step + 2) * PERIOD * 1000).toISOString());
  });

  it('within its window a used step is refused, even by an instance that has not seen the last step move', async () => {
    const code = totpCode(secret, at, parameters);
    at = new Date(at.getTime() + PERIOD * 1000);
    // Another instance racing: it read the user's row before the last step moved.
    await connection.db!.collection<{ _id: string }>('mfa_factors').updateOne({ _id: userId }, { $set: { lastTotpStep: 0 } });
    await sweeper?.sweep();
    events.length = 0;
    expect((await factors.verify(userId, code, IP)).ok).to.equal(false);
    expect(events.map((event) => (event.type === 'mfa.failed' ? event.reason : event.type))).to.deep.equal(['replayed']);
  });

  it('after its window the row is gone (sweeper on FerretDB, TTL index on MongoDB)', async () => {
    const used = stepAt(at) - 1;
    at = new Date((used + 2) * PERIOD * 1000 - 1);
    await sweeper?.sweep();
    expect((await rows()).map((row) => row.step), 'kept to the last millisecond of its window').to.include(used);
    at = new Date((used + 2) * PERIOD * 1000);
    if (sweeper === undefined) return;
    await sweeper.sweep();
    expect(await rows(), 'every step used so far has expired').to.deep.equal([]);
  });
});
