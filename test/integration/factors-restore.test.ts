import { expect } from 'chai';
import type { Connection } from 'mongoose';
import type { ExportedFactors, Factors } from '../../src/mfa/factors.ts';
import { openFactors } from '../../src/mfa/setup.ts';
import { newTotpSecret } from '../../src/mfa/totp.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { accountsHarness, type AccountsHarness } from '../helpers/accounts.ts';
import { testClock } from '../helpers/clock.ts';
import { databaseForSuite } from '../helpers/stores.ts';

/**
 * An app restored from an export file (src/transfer/) keeps the file's last used step, so a code
 * used before the export is not taken again — written with the app in one update of the user's
 * `mfa_factors` row (FerretDB v1 rewrites the whole row on each), not the app first and the step
 * after it.
 */
describe('second factors restored from an export: one write of the user’s row', () => {
  const database = databaseForSuite('factors_restore');
  let connection: Connection;
  let h: AccountsHarness;
  let factors: Factors;
  const updates: string[] = [];
  const at = new Date('2026-03-01T10:00:10Z');
  const exported = (userId: string, secret: string, lastTotpStep: number): ExportedFactors => ({
    userId,
    totp: { secret, confirmedAt: new Date('2026-01-01T00:00:00Z'), algorithm: 'SHA1', digits: 6, period: 30 },
    lastTotpStep,
    recoveryCodes: [],
  });
  const stepOf = async (userId: string) => (await connection.db!.collection<{ _id: string; lastTotpStep: number }>('mfa_factors').findOne({ _id: userId }))?.lastTotpStep;

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000, watchCommands: true });
    h = await accountsHarness({ connection, clock: testClock({ frozen: true }) });
    factors = await openFactors({ mongo: connection, secret: 'a-test-secret-of-at-least-32-characters', limiter: h.limiter, now: () => at });
    // The users exist: factors written for a user who does not are erased again (a deletion racing the write).
    await connection.db!.collection<{ _id: string }>('users').insertMany(['restore-new', 'restore-again', 'restore-unused'].map((id) => ({ _id: id, usernameKey: id, emailKey: `${id}@example.com` })));
    connection.getClient().on('commandStarted', (event: { commandName: string; command: Record<string, unknown> }) => {
      if (event.commandName === 'update' && event.command.update === 'mfa_factors') updates.push(event.commandName);
    });
  });
  after(async () => {
    await h.close();
    await connection.close();
  });
  beforeEach(() => {
    updates.length = 0;
  });

  it('an app new here: imported with the file’s last step in one update', async () => {
    const restored = await factors.restore(exported('restore-new', newTotpSecret(), 59_000_000), { recoveryCodes: false });
    expect(restored.totp).to.equal('imported');
    expect(await stepOf('restore-new')).to.equal(59_000_000);
    expect(updates).to.have.length(1);
  });

  it('the same app again: the step moves forward only, in one update', async () => {
    const secret = newTotpSecret();
    await factors.restore(exported('restore-again', secret, 59_000_000), { recoveryCodes: false });
    updates.length = 0;
    expect((await factors.restore(exported('restore-again', secret, 59_000_010), { recoveryCodes: false })).totp).to.equal('unchanged');
    expect(await stepOf('restore-again')).to.equal(59_000_010);
    expect(updates).to.have.length(1);
    await factors.restore(exported('restore-again', secret, 58_000_000), { recoveryCodes: false });
    expect(await stepOf('restore-again')).to.equal(59_000_010);
  });

  it('an app with no step used yet: imported in one update, its step 0', async () => {
    expect((await factors.restore(exported('restore-unused', newTotpSecret(), 0), { recoveryCodes: false })).totp).to.equal('imported');
    expect(await stepOf('restore-unused')).to.equal(0);
    expect(updates).to.have.length(1);
  });
});
