import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { SignInsInFlightError } from '../../src/accounts/errors.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { accountsHarness, randomIp, TEST_LOCKOUT_POLICY, type AccountsHarness } from '../helpers/accounts.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { databaseForSuite, serviceUrls } from '../helpers/stores.ts';

const THRESHOLD = TEST_LOCKOUT_POLICY.accountIp.threshold;

/**
 * Attempts in flight (docs/ACCOUNTS.md): how long a sign-in waits for a place, and how long an
 * attempt whose process died holds one — both on Gatehouse's clock, which these tests freeze and
 * move, so neither depends on how fast the machine is.
 */
for (const backend of ['redis', 'mongo'] as const) {
  describe(`sign-in attempts in flight (counters in ${backend === 'redis' ? 'Redis' : 'MongoDB-wire, no Redis'})`, function () {
    // Without Redis the places and counters are documents, which FerretDB updates one at a time
    // under a lock (src/storage/document-locks.ts): sign-ins at once take it in turn, a few round
    // trips each. Under 1 s for 12 sign-ins on a quiet machine, 17.5 s at load 25 (of 30 s): the
    // time is the machine's, so the limit is set for a busy one rather than the default.
    if (backend === 'mongo') this.timeout(90_000);
    const database = databaseForSuite(`inflight_${backend}`);
    let connection: Connection;
    let redis: Redis | undefined;
    const harnesses: AccountsHarness[] = [];
    let n = 0;

    before(async () => {
      connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
      if (backend === 'redis') redis = await connectRedis({ url: serviceUrls().redisUrl, timeoutMs: 2000 });
    });
    afterEach(async () => {
      await Promise.all(harnesses.splice(0).map((harness) => harness.close()));
    });
    after(async () => {
      redis?.disconnect();
      await connection.close();
    });

    /** An instance's account layer on the shared stores, its clock frozen (moved by the test). */
    /** What the instances' waits ended in (the metrics' hook: gatehouse_sign_in_waits_total). */
    const waits: string[] = [];
    async function instance(clock: TestClock, inFlightWaitMs?: number) {
      const harness = await accountsHarness({ connection, redis, clock, onInFlightWait: (outcome) => waits.push(outcome), ...(inFlightWaitMs === undefined ? {} : { inFlightWaitMs }) });
      harnesses.push(harness);
      return harness;
    }
    const subject = () => `in-flight-${backend}-${++n}-${Math.random().toString(36).slice(2, 8)}`;
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => 'admitted',
        (error: unknown) => (error instanceof SignInsInFlightError ? 'refused' : Promise.reject(error)),
      );

    /**
     * The bound is on progress, not on how long a burst takes: however slow the machine, a
     * sign-in whose predecessors keep ending is not refused. With a bound of 1 ms in real time
     * most of these were refused 503.
     */
    it(`${THRESHOLD * 4} correct passwords at once all sign in with a wait bound of 1 ms while the clock stands still`, async () => {
      const h = await instance(testClock({ frozen: true }), 1);
      const username = `inflight${++n}${backend}`;
      await h.accounts.createUser({ username, password: 'right-password' });
      const results = await Promise.all(Array.from({ length: THRESHOLD * 4 }, () => h.accounts.authenticate(username, 'right-password', '198.51.100.7').then((result) => result.ok, () => 'refused')));
      expect(results.filter((ok) => ok === true).length).to.equal(THRESHOLD * 4);
    });

    it('a sign-in behind attempts that never end (their process died) is refused 503 once no place was freed for the wait bound on the clock: nothing counted, nothing locked', async () => {
      const clock = testClock({ frozen: true });
      // 50 s: a wait bound in real time would hold this test past mocha's timeout. Less than the
      // 60 s an attempt stays in flight at most: the places are still held when the bound passes.
      const h = await instance(clock, 50_000);
      const who = subject();
      const ip = randomIp();
      for (let i = 0; i < THRESHOLD; i++) expect(await h.limiter.attempt(who, ip)).to.include({ locked: false });
      waits.length = 0;
      const waiting = refusal(h.limiter.attempt(who, ip));
      await clock.advance(50_000);
      expect(await waiting).to.equal('refused');
      expect(waits, 'for the metrics').to.deep.equal(['refused']);
      expect(await h.limiter.check(who, ip)).to.include({ locked: false });
      expect(await h.accounts.listLockouts()).to.deep.equal([]);
    });

    it('an attempt that never ends holds its place for 60 s after its own start, however many attempts start after it', async () => {
      const clock = testClock({ frozen: true });
      const crashed = await instance(clock);
      const h = await instance(clock);
      const who = subject();
      const ip = randomIp();
      // The crashed instance's attempt, then the others' (they renew the key as a whole).
      expect(await crashed.limiter.attempt(who, ip)).to.include({ locked: false });
      await clock.advance(50_000);
      const held = [];
      for (let i = 1; i < THRESHOLD; i++) held.push(await h.limiter.attempt(who, ip));
      const waiting = h.limiter.attempt(who, ip);
      await clock.advance(11_000);
      const admitted = await waiting;
      expect(admitted, 'a place: the crashed attempt ended 60 s after its start').to.include({ locked: false });
      // The attempts that started after it still hold theirs (nor did the sweeper take their row):
      // the next waits, and is refused once none of them ended for the bound (10 s).
      const next = refusal(h.limiter.attempt(who, ip));
      await clock.advance(10_000);
      expect(await next).to.equal('refused');
      await Promise.all([...held, admitted].map((attempt) => h.limiter.release(who, ip, attempt)));
    });

    it('a sign-in waiting on another instance gets the place an attempt there frees', async () => {
      const clock = testClock({ frozen: true });
      const a = await instance(clock, 600_000);
      const b = await instance(clock, 600_000);
      const who = subject();
      const ip = randomIp();
      const held = [];
      for (let i = 0; i < THRESHOLD; i++) held.push(await a.limiter.attempt(who, ip));
      const waiting = b.limiter.attempt(who, ip);
      await a.limiter.release(who, ip, held[0]!);
      expect(await waiting).to.include({ locked: false });
    });
  });
}
