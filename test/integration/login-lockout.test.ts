import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { AUTHENTICATION_FAILED, type AuthenticationEvent } from '../../src/accounts/password-authentication.ts';
import { HashQueueFullError } from '../../src/accounts/errors.ts';
import { createPasswordHasher } from '../../src/accounts/hash-pool.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { accountsHarness, randomIp, TEST_LOCKOUT_POLICY, type AccountsHarness } from '../helpers/accounts.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { databaseForSuite, serviceUrls } from '../helpers/stores.ts';

const THRESHOLD = TEST_LOCKOUT_POLICY.accountIp.threshold;
const LOCK_MS = TEST_LOCKOUT_POLICY.lockSeconds * 1000;

type Failure = Extract<AuthenticationEvent, { outcome: 'failure' }>;

for (const backend of ['redis', 'mongo'] as const) {
  describe(`sign-in failures and lockout (counters in ${backend === 'redis' ? 'Redis' : 'MongoDB-wire, no Redis'})`, () => {
    const database = databaseForSuite(`lockout_${backend}`);
    let connection: Connection;
    let redis: Redis | undefined;
    /**
     * When locks end: frozen, so however slow the machine a lock holds until the test moves
     * the clock past its end.
     */
    let clock: TestClock;
    let h: AccountsHarness;
    let n = 0;

    before(async () => {
      connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
      if (backend === 'redis') redis = await connectRedis({ url: serviceUrls().redisUrl, timeoutMs: 2000 });
      clock = testClock({ frozen: true });
      h = await accountsHarness({ connection, redis, clock });
    });
    after(async () => {
      await h.close();
      redis?.disconnect();
      await connection.close();
    });

    /**
     * A login no user has, fresh per call: its counters are keyed on the name, and the test
     * Redis may outlive a run (the counting windows are an hour), so a fixed name would carry
     * failures over from earlier runs.
     */
    const nobody = () => `nobody-${randomBytes(4).toString('hex')}`;
    /** A fresh user (and name) per test, so counters never leak between tests. */
    async function newUser() {
      const username = `user${++n}_${backend}`;
      const user = await h.accounts.createUser({ username, email: `${username}@example.com`, password: 'right-password' });
      return { ...user, login: username };
    }
    const lastFailure = (harness = h) => harness.events.at(-1) as Failure;
    const fail = async (login: string, ip: string, times: number, harness = h) => {
      for (let i = 0; i < times; i++) expect(await harness.accounts.authenticate(login, 'wrong-password', ip)).to.equal(AUTHENTICATION_FAILED);
    };

    it('answers unknown user, wrong password, locked and disabled with the identical generic failure after the same work', async () => {
      const active = await newUser();
      const locked = await newUser();
      const disabled = await newUser();
      const ip = randomIp();
      await fail(locked.login, ip, THRESHOLD);
      await h.accounts.disable(disabled.id);

      const verifiesBefore = h.hashEvents.filter((e) => e.type === 'completed').length;
      const attempts: Array<[string, string]> = [
        [nobody(), 'right-password'],
        [active.login, 'wrong-password'],
        [locked.login, 'right-password'],
        [disabled.login, 'right-password'],
      ];
      const results = [];
      const reasons = [];
      for (const [login, password] of attempts) {
        results.push(await h.accounts.authenticate(login, password, ip));
        reasons.push(lastFailure().reason);
      }
      for (const result of results) {
        expect(result).to.equal(AUTHENTICATION_FAILED); // the very same frozen object
        expect(JSON.stringify(result)).to.equal('{"ok":false}');
      }
      expect(reasons).to.deep.equal(['unknown_user', 'wrong_password', 'locked', 'disabled']);
      const verifies = h.hashEvents.filter((e) => e.type === 'completed').slice(verifiesBefore);
      expect(verifies.map((e) => e.type === 'completed' && e.op)).to.deep.equal(['verify', 'verify', 'verify', 'verify']);
      expect((await h.accounts.authenticate(active.login, 'right-password', ip)).ok).to.equal(true);
    });

    it(`locks on failure number ${THRESHOLD} from one IP, lists the lock, and lets it expire`, async () => {
      const user = await newUser();
      const ip = randomIp();
      await fail(user.login, ip, THRESHOLD - 1);
      expect(lastFailure().lockedForSeconds).to.equal(null);
      await fail(user.login, ip, 1);
      expect(lastFailure()).to.include({ reason: 'wrong_password', lockedForSeconds: LOCK_MS / 1000 });

      expect(await h.accounts.authenticate(user.login, 'right-password', ip)).to.equal(AUTHENTICATION_FAILED);
      expect(lastFailure().reason).to.equal('locked');
      const lockouts = (await h.accounts.listLockouts()).filter((l) => l.subject === user.id);
      expect(lockouts).to.have.length(1);
      expect(lockouts[0]).to.include({ scope: 'account_ip', ip, level: 1 });

      // The lock ends on the clock: still in force a millisecond before its end, gone at it.
      await clock.advance(LOCK_MS - 1);
      expect(await h.accounts.authenticate(user.login, 'right-password', ip)).to.equal(AUTHENTICATION_FAILED);
      expect(lastFailure()).to.include({ reason: 'locked', lockedForSeconds: 1 });
      await clock.advance(1);
      expect((await h.accounts.listLockouts()).filter((l) => l.subject === user.id)).to.deep.equal([]);
      expect((await h.accounts.authenticate(user.login, 'right-password', ip)).ok).to.equal(true);
    });

    it('doubles the lock when the same key locks again', async () => {
      const user = await newUser();
      const ip = randomIp();
      await fail(user.login, ip, THRESHOLD);
      await clock.advance(LOCK_MS); // the first lock ran out
      // Counting starts again after a lock: it takes the whole threshold to lock the key again.
      await fail(user.login, ip, THRESHOLD - 1);
      expect(lastFailure().lockedForSeconds).to.equal(null);
      await fail(user.login, ip, 1);
      // The sixth failure also reaches the account-wide threshold; this test watches the (account, IP) key.
      const [lock] = (await h.accounts.listLockouts()).filter((l) => l.subject === user.id && l.scope === 'account_ip');
      expect(lock).to.include({ scope: 'account_ip', level: 2 });
      expect(lock!.lockedUntil.getTime() - lock!.lockedAt.getTime()).to.equal(2 * LOCK_MS);
      expect(lastFailure().lockedForSeconds).to.equal((2 * LOCK_MS) / 1000);
      expect(await h.accounts.authenticate(user.login, 'right-password', ip)).to.equal(AUTHENTICATION_FAILED);
      expect(lastFailure().reason).to.equal('locked');
    });

    it('failures arriving together past a threshold lock each key once, at the first level (no double lock)', async () => {
      const user = await newUser();
      const ip = randomIp();
      // More failures at once than the account threshold: each key is locked by one of them only.
      const burst = TEST_LOCKOUT_POLICY.account.threshold + 4;
      const states = await Promise.all(Array.from({ length: burst }, () => h.limiter.recordFailure(user.id, ip)));
      // Calls are counted in the order they reach the store, not the array's: a call counted
      // before the threshold may answer before the lock is written. Once all are done it is.
      expect(states.some((state) => state.locked)).to.equal(true);
      expect(await h.limiter.check(user.id, ip)).to.include({ locked: true });
      const locks = (await h.accounts.listLockouts()).filter((l) => l.subject === user.id);
      // FerretDB may lose some of the concurrent counter increments, so the account key need not reach its threshold there.
      expect(locks.map((l) => l.scope)).to.include('account_ip');
      if (backend === 'redis') expect(locks.map((l) => l.scope).sort()).to.deep.equal(['account', 'account_ip']);
      for (const lock of locks) {
        expect(lock.level, lock.scope).to.equal(1);
        expect(lock.lockedUntil.getTime() - lock.lockedAt.getTime(), lock.scope).to.equal(LOCK_MS);
      }
    });

    /**
     * Guesses sent together (one sign-in form posted on many connections) must not all pass the
     * lock check before the first of them is counted: the limit holds exactly, whatever the
     * interleaving. Each guess is answered as a wrong password (it was verified) or as locked.
     */
    // Without Redis each attempt of a burst takes document locks one after another on the
    // MongoDB-wire server: at load 25–30 a burst took 24 s to over 30 s (the mocha default), a
    // measure of the store's speed, not of the limiter. Their bound is longer there.
    const burstTimeoutMs = backend === 'mongo' ? 120_000 : 30_000;
    const reasonsOfBurst = async (attempts: ReadonlyArray<readonly [string, string]>) => {
      const before = h.events.length;
      const results = await Promise.all(attempts.map(([login, ip]) => h.accounts.authenticate(login, 'wrong-password', ip)));
      expect(results.every((result) => result === AUTHENTICATION_FAILED)).to.equal(true);
      const reasons = h.events.slice(before).map((event) => (event as Failure).reason);
      return { verified: reasons.filter((reason) => reason === 'wrong_password').length, locked: reasons.filter((reason) => reason === 'locked').length };
    };

    it('of wrong passwords sent together from one address, exactly the (account, IP) threshold are tried', async function () {
      this.timeout(burstTimeoutMs);
      const user = await newUser();
      const ip = randomIp();
      const burst = THRESHOLD * 4;
      expect(await reasonsOfBurst(Array.from({ length: burst }, () => [user.login, ip] as const))).to.deep.equal({ verified: THRESHOLD, locked: burst - THRESHOLD });
      expect((await h.accounts.authenticate(user.login, 'right-password', ip)).ok).to.equal(false);
      expect(lastFailure().reason).to.equal('locked');
    });

    it('of wrong passwords sent together from many addresses, exactly the account threshold are tried', async function () {
      this.timeout(burstTimeoutMs);
      const user = await newUser();
      const accountThreshold = TEST_LOCKOUT_POLICY.account.threshold;
      // One guess per address: no (account, IP) pair reaches its own threshold.
      const burst = accountThreshold * 3;
      expect(await reasonsOfBurst(Array.from({ length: burst }, () => [user.login, randomIp()] as const))).to.deep.equal({ verified: accountThreshold, locked: burst - accountThreshold });
    });

    /** The limiter's rows of `subject` left in the store: counters, in-flight counts, levels (none when all are spent). */
    const rowsOf = async (subject: string) =>
      redis === undefined
        ? (await connection.db!.collection('login_limits').find({ key: { $regex: encodeURIComponent(subject) } }).toArray()).map((row) => String(row.key))
        : (await redis.keys(`*gh_*${encodeURIComponent(subject)}*`)).sort();

    /**
     * Only failures lock: correct passwords sent at once (a service account's password grant from
     * one backend, several tabs) are never counted like failures, however many there are — not
     * refused, not locked, nothing remembered.
     */
    // 30 at once only with Redis: without it each attempt takes six document locks, and a burst
    // that long would test the MongoDB-wire server's speed under load more than the limiter.
    for (const burst of backend === 'redis' ? [12, 30] : [12]) {
      it(`${burst} correct passwords sent together from one address all sign in: no lock listed, no count left`, async function () {
      this.timeout(burstTimeoutMs);
        const user = await newUser();
        const ip = randomIp();
        const results = await Promise.all(Array.from({ length: burst }, () => h.accounts.authenticate(user.login, 'right-password', ip)));
        expect(results.filter((result) => result.ok).length).to.equal(burst);
        expect((await h.accounts.listLockouts()).filter((l) => l.subject === user.id)).to.deep.equal([]);
        expect(await h.limiter.check(user.id, ip)).to.include({ locked: false });
        expect(await rowsOf(user.id)).to.deep.equal([]);
        // The whole threshold of failures is still needed to lock.
        await fail(user.login, ip, THRESHOLD - 1);
        expect(lastFailure().lockedForSeconds).to.equal(null);
        await fail(user.login, ip, 1);
        expect(lastFailure().lockedForSeconds).to.be.a('number');
      });
    }

    it('unlock lifts the lock at once and removes it from the list', async () => {
      const user = await newUser();
      const ip = randomIp();
      await fail(user.login, ip, THRESHOLD);
      expect((await h.accounts.listLockouts()).some((l) => l.subject === user.id)).to.equal(true);
      expect(await h.accounts.unlock(user.id)).to.equal(1);
      expect((await h.accounts.listLockouts()).some((l) => l.subject === user.id)).to.equal(false);
      expect((await h.accounts.authenticate(user.login, 'right-password', ip)).ok).to.equal(true);
    });

    it('a threshold lowered below a count already reached locks that key at its next attempt: listed, and lifted by an unlock', async () => {
      let policy = TEST_LOCKOUT_POLICY;
      const lowered = await accountsHarness({ connection, redis, clock, policy: async () => policy });
      try {
        const user = await newUser();
        const ip = randomIp();
        await fail(user.login, ip, THRESHOLD - 1, lowered);
        policy = { ...TEST_LOCKOUT_POLICY, accountIp: { ...TEST_LOCKOUT_POLICY.accountIp, threshold: THRESHOLD - 2 } };
        expect(await lowered.accounts.authenticate(user.login, 'right-password', ip)).to.equal(AUTHENTICATION_FAILED);
        expect(lastFailure(lowered).reason).to.equal('locked');
        // Not a lock nobody sees (GET /lockouts) and no unlock lifts, lasting until the counting window ends.
        expect((await lowered.accounts.listLockouts()).some((l) => l.subject === user.id && l.scope === 'account_ip'), 'the lock is listed').to.equal(true);
        expect(await lowered.accounts.unlock(user.id)).to.equal(1);
        expect((await lowered.accounts.authenticate(user.login, 'right-password', ip)).ok, 'unlocked').to.equal(true);
      } finally {
        await lowered.close();
      }
    });

    it('right passwords sent together past a threshold are refused beyond it but lock nothing (a gateway signing one user in per request)', async () => {
      const user = await newUser();
      const ip = randomIp();
      // Signed in before (the harness stores each sign-in's time unbatched: a first row written by many at once would race).
      expect((await h.accounts.authenticate(user.login, 'right-password', ip)).ok).to.equal(true);
      const results = await Promise.all(Array.from({ length: THRESHOLD * 3 }, () => h.accounts.authenticate(user.login, 'right-password', ip)));
      expect(results.filter((result) => result !== AUTHENTICATION_FAILED).length, 'at least the threshold signs in').to.be.at.least(THRESHOLD);
      expect((await h.accounts.listLockouts()).some((l) => l.subject === user.id), 'no lock').to.equal(false);
      expect((await h.accounts.authenticate(user.login, 'right-password', ip)).ok, 'the next sign-in works').to.equal(true);
    });

    it('a successful login resets the (account, IP) failure count', async () => {
      const user = await newUser();
      const ip = randomIp();
      await fail(user.login, ip, THRESHOLD - 1);
      expect((await h.accounts.authenticate(user.login, 'right-password', ip)).ok).to.equal(true);
      await fail(user.login, ip, THRESHOLD - 1);
      expect((await h.accounts.authenticate(user.login, 'right-password', ip)).ok).to.equal(true);
    });

    it('counts failures per account across IPs and per IP across accounts', async () => {
      const user = await newUser();
      const accountThreshold = TEST_LOCKOUT_POLICY.account.threshold;
      for (let i = 0; i < accountThreshold; i++) await fail(user.email!, randomIp(), 1);
      expect(await h.accounts.authenticate(user.login, 'right-password', randomIp())).to.equal(AUTHENTICATION_FAILED);
      expect(lastFailure().reason).to.equal('locked');
      expect((await h.accounts.listLockouts()).find((l) => l.subject === user.id && l.scope === 'account')).to.include({ ip: null });
      await h.accounts.unlock(user.id);
      expect((await h.accounts.authenticate(user.login, 'right-password', randomIp())).ok).to.equal(true);

      const sprayer = randomIp();
      const victims = [];
      for (let i = 0; i < TEST_LOCKOUT_POLICY.ip.threshold; i++) victims.push(await newUser());
      for (const victim of victims) await fail(victim.login, sprayer, 1);
      const fresh = await newUser();
      expect(await h.accounts.authenticate(fresh.login, 'right-password', sprayer)).to.equal(AUTHENTICATION_FAILED);
      expect(lastFailure().reason).to.equal('locked');
      expect((await h.accounts.listLockouts()).find((l) => l.scope === 'ip' && l.ip === sprayer)).to.include({ subject: null });
      expect(await h.limiter.unlockIp(sprayer)).to.equal(1);
      expect((await h.accounts.authenticate(fresh.login, 'right-password', sprayer)).ok).to.equal(true);
    });

    it('locks logins that match no user exactly like real ones (no enumeration through lockout)', async () => {
      const ip = randomIp();
      const ghost = nobody();
      await fail(ghost, ip, THRESHOLD);
      expect(lastFailure()).to.include({ reason: 'unknown_user', lockedForSeconds: LOCK_MS / 1000 });
      expect((await h.accounts.listLockouts()).some((l) => l.subject === `login:${ghost}`)).to.equal(true);
    });

    it('passes HashQueueFullError through, so sign-in can answer 503 with Retry-After', async () => {
      const user = await newUser();
      const saturated = createPasswordHasher({ params: { memoryKiB: 65_536, iterations: 3, parallelism: 1 }, size: 1, queueLimit: 0 });
      const { createAccounts } = await import('../../src/accounts/accounts.ts');
      const { userModel } = await import('../../src/accounts/user-model.ts');
      const accounts = createAccounts({ users: userModel(connection), hasher: saturated, limiter: h.limiter });
      try {
        const busy = saturated.hash('keeps the only worker busy');
        const ip = randomIp();
        let error: unknown;
        await accounts.authenticate(user.login, 'right-password', ip).catch((e: unknown) => (error = e));
        expect(error).to.be.instanceOf(HashQueueFullError);
        expect((error as HashQueueFullError).retryAfterSeconds).to.be.at.least(1);
        await busy;
        // The password was never checked: that attempt does not count toward the lock.
        await fail(user.login, ip, THRESHOLD - 1);
        expect((await h.accounts.authenticate(user.login, 'right-password', ip)).ok).to.equal(true);
      } finally {
        await saturated.close();
      }
    });

    if (backend === 'mongo') {
      it('uses a TTL index where the server has them, else says so once (debug) and a sweeper deletes expired counters', async () => {
        // Its own clock: moving it a day on sweeps every row, so this one runs on its own limiter.
        const dayLater = testClock({ frozen: true });
        const swept = await accountsHarness({ connection, clock: dayLater });
        try {
          const ttlSupported = await connection.db!.collection('login_limits').indexes().then((ix) => ix.some((i) => 'expireAfterSeconds' in i));
          if (ttlSupported) {
            // Real MongoDB: the TTL index does the job and no fallback warning is logged.
            expect(swept.logLines.filter((line) => line.includes('no TTL indexes'))).to.have.length(0);
            return;
          }
          const warnings = swept.logLines.filter((line) => line.includes('no TTL indexes'));
          expect(warnings).to.have.length(1);
          expect(JSON.parse(warnings[0]!).level, 'expected on FerretDB: not a warning').to.equal('debug');
          expect(JSON.parse(warnings[0]!).collections).to.have.members(['login_lockouts', 'login_limits']);

          const user = await newUser();
          const ip = randomIp();
          await fail(user.login, ip, THRESHOLD, swept);
          const limits = connection.db!.collection('login_limits');
          const lockouts = connection.db!.collection('login_lockouts');
          // The account's counter and the pair's lock level, and the lock's record.
          const mine = { key: { $regex: encodeURIComponent(user.id) } };
          expect(await limits.countDocuments(mine)).to.equal(2);
          expect(await lockouts.countDocuments({ subject: user.id })).to.equal(1);
          // A day later every window, level and lock has run out; nobody reads the rows, the
          // sweeper deletes them (it runs on the clock's jump; its timer would do the same later).
          await dayLater.advance(86_400_000);
          expect(await limits.countDocuments(mine)).to.equal(0);
          expect(await lockouts.countDocuments({ subject: user.id })).to.equal(0);
        } finally {
          await swept.close();
        }
      });
    }
  });
}
