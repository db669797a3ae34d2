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
 * The export walks users' apps and recovery codes as two cursors sorted by user id, side by side.
 * The store (MongoDB, FerretDB) sorts strings by their UTF-8 bytes; JavaScript's `<` compares
 * UTF-16 code units, and the two disagree where a character beyond U+FFFF (a surrogate pair,
 * U+D800…) meets one of U+E000–U+FFFF: the byte order puts U+E000 first, `<` puts U+10000 first.
 * Ids like these (an import keeps the ids it is given) must still give each user one entry.
 */
describe('second factors export: one entry per user, whatever the ids’ characters', () => {
  const database = databaseForSuite('factors_export_order');
  let connection: Connection;
  let h: AccountsHarness;
  let factors: Factors;
  const at = new Date('2026-03-01T10:00:10Z');
  // In the store's order: private-use first (bytes EE 80 80), then the supplementary one (F0 90 80 80).
  const privateUse = 'user-\uE000';
  const supplementary = 'user-\u{10000}';
  const restore = (userId: string, app: boolean, recoveryCodes: string[]) =>
    factors.restore(
      {
        userId,
        totp: app ? { secret: newTotpSecret(), confirmedAt: new Date('2026-01-01T00:00:00Z'), algorithm: 'SHA1', digits: 6, period: 30 } : null,
        lastTotpStep: 0,
        recoveryCodes,
      },
      { recoveryCodes: true },
    );

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    h = await accountsHarness({ connection, clock: testClock({ frozen: true }) });
    factors = await openFactors({ mongo: connection, secret: 'a-test-secret-of-at-least-32-characters', limiter: h.limiter, now: () => at });
    // The users exist: factors written for a user who does not are erased again (a deletion racing the write).
    await connection.db!.collection<{ _id: string }>('users').insertMany([supplementary, privateUse, 'user-ascii'].map((id) => ({ _id: id, usernameKey: id, emailKey: `${id}@example.com` })));
  });
  after(async () => {
    await h.close();
    await connection.close();
  });

  it('a user with an app and codes is one entry, though another user sorts before it in the store and after it in JavaScript', async () => {
    await restore(supplementary, true, ['code-supplementary-1', 'code-supplementary-2']);
    await restore(privateUse, false, ['code-private-use-1']);
    await restore('user-ascii', true, ['code-ascii-1']);
    // The premise: the store sorts the two the other way round from `<`.
    expect(supplementary < privateUse).to.equal(true);
    const codeOwners = (await connection.db!.collection<{ userId: string }>('mfa_recovery_codes').find({}).sort({ userId: 1 }).toArray()).map((code) => code.userId);
    expect(codeOwners.indexOf(privateUse)).to.be.below(codeOwners.indexOf(supplementary));

    const entries: ExportedFactors[] = [];
    for await (const entry of factors.exportEach()) entries.push(entry);
    expect(entries.map((entry) => entry.userId).sort()).to.deep.equal([supplementary, privateUse, 'user-ascii'].sort());
    const bySupplementary = entries.find((entry) => entry.userId === supplementary)!;
    expect(bySupplementary.totp).to.not.equal(null);
    expect([...bySupplementary.recoveryCodes].sort()).to.deep.equal(['code-supplementary-1', 'code-supplementary-2']);
    const byPrivateUse = entries.find((entry) => entry.userId === privateUse)!;
    expect(byPrivateUse.totp).to.equal(null);
    expect(byPrivateUse.recoveryCodes).to.deep.equal(['code-private-use-1']);
  });
});
