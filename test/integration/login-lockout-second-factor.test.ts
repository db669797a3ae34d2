import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { FactorEvent, Factors } from '../../src/mfa/factors.ts';
import { openFactors } from '../../src/mfa/setup.ts';
import { totpCode } from '../../src/mfa/totp.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { accountsHarness, randomIp, TEST_LOCKOUT_POLICY, type AccountsHarness } from '../helpers/accounts.ts';
import { testClock } from '../helpers/clock.ts';
import { databaseForSuite, serviceUrls } from '../helpers/stores.ts';

/**
 * Second-factor codes sent together count against the sign-in lockout exactly like passwords
 * sent together (docs/ACCOUNTS.md): a code is checked as one attempt of the login limiter,
 * checked and counted in one step, so wrong codes at once never get more tries than the
 * thresholds leave, and correct codes at once never lock anything.
 */
for (const backend of ['redis', 'mongo'] as const) {
  describe(`second-factor codes sent together (counters in ${backend === 'redis' ? 'Redis' : 'MongoDB-wire, no Redis'})`, function () {
    // Without Redis the counters are documents, and FerretDB updates one document at a time only
    // under its lock (src/storage/document-locks.ts): codes sent together take it in turn, a few
    // round trips each. 1.3 s for 18 codes on a quiet machine, 17.8 s at load 25 (of 30 s): the
    // time is the machine's, so the limit is set for a busy one rather than the default.
    if (backend === 'mongo') this.timeout(90_000);
    const database = databaseForSuite(`lockout_mfa_${backend}`);
    let connection: Connection;
    let redis: Redis | undefined;
    let h: AccountsHarness;
    let factors: Factors;
    const events: FactorEvent[] = [];
    // The codes' clock: TOTP steps move only when the test says so.
    const at = new Date('2026-03-01T10:00:10Z');
    let n = 0;

    before(async () => {
      connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
      if (backend === 'redis') redis = await connectRedis({ url: serviceUrls().redisUrl, timeoutMs: 2000 });
      h = await accountsHarness({ connection, redis, clock: testClock({ frozen: true }) });
      factors = await openFactors({ mongo: connection, secret: 'a-test-secret-of-at-least-32-characters', limiter: h.limiter, now: () => at, onEvent: (event) => events.push(event) });
    });
    after(async () => {
      await h.close();
      redis?.disconnect();
      await connection.close();
    });

    /** A fresh user with an app and ten recovery codes. */
    async function enrolled() {
      const user = await h.accounts.createUser({ username: `second${++n}${backend}${Math.random().toString(36).slice(2, 6)}`, password: 'right-password' });
      const { secret } = await factors.beginTotp(user.id);
      const confirmed = await factors.confirmTotp(user.id, totpCode(secret, at), randomIp());
      if (!confirmed.ok) throw new Error('enrolment failed');
      return { id: user.id, secret, codes: confirmed.recoveryCodes };
    }
    const wrongCode = (secret: string) => (totpCode(secret, at) === '000000' ? '111111' : '000000');
    /** How the codes' failures since `from` went: checked (a wrong code) or refused as locked. */
    const reasonsSince = (from: number, userId: string) => {
      const failures = events.slice(from).filter((event): event is Extract<FactorEvent, { type: 'mfa.failed' }> => event.type === 'mfa.failed' && event.userId === userId);
      return { checked: failures.filter((event) => event.reason === 'wrong_code').length, locked: failures.filter((event) => event.reason === 'locked').length };
    };

    it('of wrong codes sent together from one address, exactly the (account, IP) threshold are checked', async () => {
      const user = await enrolled();
      const ip = randomIp();
      const threshold = TEST_LOCKOUT_POLICY.accountIp.threshold;
      const from = events.length;
      const results = await Promise.all(Array.from({ length: threshold * 4 }, () => factors.verify(user.id, wrongCode(user.secret), ip)));
      expect(results.every((result) => !result.ok)).to.equal(true);
      expect(reasonsSince(from, user.id)).to.deep.equal({ checked: threshold, locked: threshold * 3 });
      expect((await factors.verify(user.id, totpCode(user.secret, at), ip)).ok, 'the right code, locked').to.equal(false);
    });

    it('of wrong codes sent together from many addresses, exactly the account threshold are checked', async () => {
      const user = await enrolled();
      const threshold = TEST_LOCKOUT_POLICY.account.threshold;
      const from = events.length;
      // Twice the threshold: as many beyond it as within, each of them a chance to be checked too.
      await Promise.all(Array.from({ length: threshold * 2 }, () => factors.verify(user.id, wrongCode(user.secret), randomIp())));
      expect(reasonsSince(from, user.id)).to.deep.equal({ checked: threshold, locked: threshold });
    });

    it('of wrong enrolment codes sent together, exactly the (account, IP) threshold are checked', async () => {
      const user = await h.accounts.createUser({ username: `pending${++n}${backend}${Math.random().toString(36).slice(2, 6)}`, password: 'right-password' });
      const { secret } = await factors.beginTotp(user.id);
      const ip = randomIp();
      const threshold = TEST_LOCKOUT_POLICY.accountIp.threshold;
      const from = events.length;
      await Promise.all(Array.from({ length: threshold * 4 }, () => factors.confirmTotp(user.id, wrongCode(secret), ip)));
      expect(reasonsSince(from, user.id)).to.deep.equal({ checked: threshold, locked: threshold * 3 });
    });

    it('ten recovery codes sent together from one address all sign in: no lock listed, nothing counted', async () => {
      const user = await enrolled();
      const ip = randomIp();
      const results = await Promise.all(user.codes.map((code) => factors.verify(user.id, code, ip)));
      expect(results.filter((result) => result.ok).length).to.equal(user.codes.length);
      expect((await h.accounts.listLockouts()).filter((lockout) => lockout.subject === user.id)).to.deep.equal([]);
      expect(await h.limiter.check(user.id, ip)).to.include({ locked: false });
      // The whole threshold of wrong codes is still needed to lock.
      const threshold = TEST_LOCKOUT_POLICY.accountIp.threshold;
      for (let i = 0; i < threshold - 1; i++) await factors.verify(user.id, wrongCode(user.secret), ip);
      expect(await h.limiter.check(user.id, ip)).to.include({ locked: false });
      await factors.verify(user.id, wrongCode(user.secret), ip);
      expect(await h.limiter.check(user.id, ip)).to.include({ locked: true });
    });
  });
}
