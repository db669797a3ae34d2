import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { AUTHENTICATION_FAILED, type AuthenticationEvent } from '../../src/accounts/accounts.ts';
import { HashQueueFullError } from '../../src/accounts/errors.ts';
import { createPasswordHasher } from '../../src/accounts/hash-pool.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { accountsHarness, randomIp, TEST_LOCKOUT_POLICY, type AccountsHarness } from '../helpers/accounts.ts';
import { dropDatabase, freshDatabaseUri, serviceUrls } from '../helpers/stores.ts';

const THRESHOLD = TEST_LOCKOUT_POLICY.accountIp.threshold;
/**
 * Locks no busy machine outlasts between locking and looking: the tests that only check that a
 * key is locked use these. The 1 s locks of TEST_LOCKOUT_POLICY are for the tests that watch a
 * lock run out (rate-limiter-flexible keeps them in real time: no clock seam moves them).
 */
const LONG_LOCKS = { ...TEST_LOCKOUT_POLICY, lockSeconds: 60, maxLockSeconds: 480 };

/**
 * Runs `attempt` until the machine made its checks while a `lockMs` lock still held: `attempt`
 * calls `locking()` just before the failure that locks, and everything it checks after that
 * must happen inside the lock. A slow run says nothing about the limiter and is tried again
 * (with a fresh user); a failure inside the time is a real one.
 */
async function whileLocked(lockMs: number, attempt: (locking: () => void) => Promise<void>): Promise<void> {
  for (let run = 1; ; run++) {
    let lockedAt = Number.POSITIVE_INFINITY;
    const inTime = () => Date.now() - lockedAt < lockMs;
    try {
      await attempt(() => (lockedAt = Date.now()));
      if (inTime()) return;
    } catch (error) {
      if (inTime() || run === 5) throw error;
    }
    if (run === 5) throw new Error(`five runs too slow to look at a ${lockMs} ms lock before it ended`);
  }
}

type Failure = Extract<AuthenticationEvent, { outcome: 'failure' }>;

for (const backend of ['redis', 'mongo'] as const) {
  describe(`sign-in failures and lockout (counters in ${backend === 'redis' ? 'Redis' : 'MongoDB-wire, no Redis'})`, () => {
    const uri = freshDatabaseUri(`lockout_${backend}`);
    let connection: Connection;
    let redis: Redis | undefined;
    /** 60 s locks (LONG_LOCKS). */
    let h: AccountsHarness;
    /** 1 s locks, for watching them run out. */
    let short: AccountsHarness;
    let n = 0;

    before(async () => {
      connection = await connectMongo({ uri, timeoutMs: 5000 });
      if (backend === 'redis') redis = await connectRedis({ url: serviceUrls().redisUrl, timeoutMs: 2000 });
      h = await accountsHarness({ connection, redis, policy: LONG_LOCKS });
      short = await accountsHarness({ connection, redis, sweepIntervalMs: 200 });
    });
    after(async () => {
      await short.close();
      await h.close();
      redis?.disconnect();
      await connection.close();
      await dropDatabase(uri);
    });

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
        ['nobody-here', 'right-password'],
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
      let user = await newUser();
      let ip = randomIp();
      await whileLocked(1000, async (locking) => {
        user = await newUser();
        ip = randomIp();
        await fail(user.login, ip, THRESHOLD - 1, short);
        expect(lastFailure(short).lockedForSeconds).to.equal(null);
        locking();
        await fail(user.login, ip, 1, short);
        expect(lastFailure(short)).to.include({ reason: 'wrong_password', lockedForSeconds: 1 });

        expect(await short.accounts.authenticate(user.login, 'right-password', ip)).to.equal(AUTHENTICATION_FAILED);
        expect(lastFailure(short).reason).to.equal('locked');
        const lockouts = (await short.accounts.listLockouts()).filter((l) => l.subject === user.id);
        expect(lockouts).to.have.length(1);
        expect(lockouts[0]).to.include({ scope: 'account_ip', ip, level: 1 });
      });

      // The lock runs out in real time (Redis / the limiter's own clock): waited for, polled; a
      // slow machine only makes this slower. The limiter keeps whole seconds, so allow for rounding.
      await sleep(1000);
      let result = await short.accounts.authenticate(user.login, 'right-password', ip);
      for (let i = 0; i < 50 && !result.ok; i++) {
        await sleep(100);
        result = await short.accounts.authenticate(user.login, 'right-password', ip);
      }
      expect(result.ok).to.equal(true);
    });

    it('doubles the lock when the same key locks again', async () => {
      await whileLocked(2000, async (locking) => {
        const user = await newUser();
        const ip = randomIp();
        await fail(user.login, ip, THRESHOLD, short);
        // Wait for the first lock to run out (polled, so a slow machine only makes this slower).
        for (let i = 0; i < 50; i++) {
          const locks = (await short.accounts.listLockouts()).filter((l) => l.subject === user.id && l.scope === 'account_ip');
          if (locks.every((l) => l.lockedUntil.getTime() <= Date.now())) break;
          await sleep(100);
        }
        // The limiter keeps blocks in whole seconds: allow for its rounding past lockedUntil.
        await sleep(1000);
        await fail(user.login, ip, THRESHOLD - 1, short);
        locking();
        await fail(user.login, ip, 1, short);
        // The sixth failure also reaches the account-wide threshold; this test watches the (account, IP) key.
        const [lock] = (await short.accounts.listLockouts()).filter((l) => l.subject === user.id && l.scope === 'account_ip');
        expect(lock).to.include({ scope: 'account_ip', level: 2 });
        expect(lock!.lockedUntil.getTime() - lock!.lockedAt.getTime()).to.equal(2000);
        expect(lastFailure(short).lockedForSeconds).to.equal(2);
        expect(await short.accounts.authenticate(user.login, 'right-password', ip)).to.equal(AUTHENTICATION_FAILED);
        expect(lastFailure(short).reason).to.equal('locked');
      });
    });

    it('unlock lifts the lock at once and removes it from the list', async () => {
      const user = await newUser();
      const ip = randomIp();
      await fail(user.login, ip, THRESHOLD);
      expect((await h.accounts.listLockouts()).some((l) => l.subject === user.id)).to.equal(true);
      expect(await h.accounts.unlock(user.id)).to.equal(1);
      expect((await h.accounts.listLockouts()).some((l) => l.subject === user.id)).to.equal(false);
      expect((await h.accounts.authenticate(user.login, 'right-password', ip)).ok).to.equal(true);
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
      await fail('ghost-user', ip, THRESHOLD);
      expect(lastFailure()).to.include({ reason: 'unknown_user', lockedForSeconds: 60 });
      expect((await h.accounts.listLockouts()).some((l) => l.subject === 'login:ghost-user')).to.equal(true);
    });

    it('passes HashQueueFullError through, so sign-in can answer 503 with Retry-After', async () => {
      const user = await newUser();
      const saturated = createPasswordHasher({ params: { memoryKiB: 65_536, iterations: 3, parallelism: 1 }, size: 1, queueLimit: 0 });
      const { createAccounts } = await import('../../src/accounts/accounts.ts');
      const { userModel } = await import('../../src/accounts/user-model.ts');
      const accounts = createAccounts({ users: userModel(connection), hasher: saturated, limiter: h.limiter });
      try {
        const busy = saturated.hash('keeps the only worker busy');
        let error: unknown;
        await accounts.authenticate(user.login, 'right-password', randomIp()).catch((e: unknown) => (error = e));
        expect(error).to.be.instanceOf(HashQueueFullError);
        expect((error as HashQueueFullError).retryAfterSeconds).to.be.at.least(1);
        await busy;
      } finally {
        await saturated.close();
      }
    });

    if (backend === 'mongo') {
      it('uses a TTL index where the server has them, else says so once (debug) and a sweeper deletes expired counters', async () => {
        const ttlSupported = await connection.db!.collection('login_limits').indexes().then((ix) => ix.some((i) => 'expireAfterSeconds' in i));
        if (ttlSupported) {
          // Real MongoDB: the TTL index does the job and no fallback warning is logged.
          expect(short.logLines.filter((line) => line.includes('no TTL indexes'))).to.have.length(0);
          return;
        }
        const warnings = short.logLines.filter((line) => line.includes('no TTL indexes'));
        expect(warnings).to.have.length(1);
        expect(JSON.parse(warnings[0]!).level, 'expected on FerretDB: not a warning').to.equal('debug');
        expect(JSON.parse(warnings[0]!).collections).to.have.members(['login_lockouts', 'login_limits']);

        const user = await newUser();
        const ip = randomIp();
        await fail(user.login, ip, THRESHOLD, short);
        const limits = connection.db!.collection('login_limits');
        const mine = { key: { $regex: encodeURIComponent(user.id) } };
        expect(await limits.countDocuments(mine)).to.be.greaterThan(0);
        // The block expires after 1 s; the sweeper then removes the row without anyone reading it.
        const row = { key: `gh_login_account_ip:${encodeURIComponent(user.id)}@${ip}` };
        const lockouts = connection.db!.collection('login_lockouts');
        // The two rows expire a few milliseconds apart and may go in different sweeps: wait for both.
        const remaining = async () => (await limits.countDocuments(row)) + (await lockouts.countDocuments({ subject: user.id }));
        for (let i = 0; i < 50 && (await remaining()) > 0; i++) await sleep(100);
        expect(await limits.countDocuments(row)).to.equal(0);
        expect(await lockouts.countDocuments({ subject: user.id })).to.equal(0);
      });
    }
  });
}
