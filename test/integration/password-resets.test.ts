import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { openPasswordResets, REUSE_REFUSALS_PER_LINK } from '../../src/accounts/password-resets.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { databaseForSuite } from '../helpers/stores.ts';

/** Every user here has an address and has not changed their password since their link was sent. */
const holder = async (userId: string) => ({ email: `${userId}@example.com`, passwordChangedAt: null, disabled: false });

describe('password reset links (real MongoDB-wire server)', () => {
  const database = databaseForSuite('password_resets');
  let connection: Connection;

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
  });

  after(async () => {
    await connection.close();
  });

  it('allows a link a few refusals of a remembered password, even posted at once, then uses it up', async () => {
    const resets = await openPasswordResets({ mongo: connection, holder, ttlSeconds: async () => 3600 });
    const token = (await resets.issue('user-1'))!;
    const answers = await Promise.all(Array.from({ length: 8 }, () => resets.refuseReused(token)));
    expect(answers.filter(Boolean)).to.have.length(REUSE_REFUSALS_PER_LINK);
    expect(await resets.check(token), 'the link is used up').to.equal(undefined);
    expect(await resets.refuseReused(token)).to.equal(false);
  });

  it('is used once when several posts consume it at the same moment (findOneAndDelete alone hands the record to more than one on FerretDB)', async () => {
    const resets = await openPasswordResets({ mongo: connection, holder, ttlSeconds: async () => 3600 });
    for (let link = 0; link < 20; link += 1) {
      const token = (await resets.issue(`racer-${link}`))!;
      const used = await Promise.all(Array.from({ length: 6 }, () => resets.consume(token)));
      expect(used.filter((ticket) => ticket !== undefined), `link ${link}`).to.have.length(1);
      expect(await resets.check(token)).to.equal(undefined);
    }
  });

  it('starts every new link with its full allowance and leaves the other users\' links alone', async () => {
    const resets = await openPasswordResets({ mongo: connection, holder, ttlSeconds: async () => 3600 });
    const other = (await resets.issue('user-3'))!;
    const first = (await resets.issue('user-2'))!;
    for (let i = 0; i < REUSE_REFUSALS_PER_LINK; i += 1) expect(await resets.refuseReused(first)).to.equal(true);
    const second = (await resets.issue('user-2'))!;
    expect(await resets.check(first), 'a new link replaces the old one').to.equal(undefined);
    for (let i = 0; i < REUSE_REFUSALS_PER_LINK; i += 1) expect(await resets.refuseReused(second)).to.equal(true);
    expect((await resets.check(other))?.userId).to.equal('user-3');
    expect((await resets.consume(second))?.userId, 'refusals leave the link usable').to.equal('user-2');
  });
});
