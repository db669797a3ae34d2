import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createLoginLimiter } from '../../src/accounts/login-limiter.ts';
import type { LoginLimiter } from '../../src/accounts/login-limiter-types.ts';
import { DEFAULT_LOCKOUT_POLICY, type LockoutPolicy } from '../../src/accounts/login-limiter-policy.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { watchMongoCommands } from '../../src/storage/command-watch.ts';
import { LOCK_COLLECTION } from '../../src/storage/document-locks.ts';
import { randomIp } from '../helpers/accounts.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { databaseForSuite } from '../helpers/stores.ts';

/**
 * The MongoDB-path lock claim (counters in MongoDB, no Redis) on the real MongoDB-wire server
 * (FerretDB in the suite). A key whose lock has ended but whose lockout record is still there
 * (no TTL index on FerretDB: the sweeper deletes it later) is locked again by failures arriving
 * together: exactly one of them may raise the escalation level. A conditional upsert
 * (`lockedUntil $lte now`) is no compare-and-set on FerretDB v1 (the filter is checked on the
 * document it read), so several claimed and each raised the level (a lock 2^n times too long).
 *
 * Deterministic: the clock is frozen and moved only by the test, and this limiter's sweeper is
 * never woken by it (no onClockJump, an interval longer than the test), so the ended record is
 * always there when the burst arrives.
 */
describe('lockout claim after an ended lock (counters and records in MongoDB-wire)', function () {
  this.timeout(120_000);
  const database = databaseForSuite('lockout_claim');
  const policy: LockoutPolicy = { ...DEFAULT_LOCKOUT_POLICY, accountIp: { threshold: 1, windowSeconds: 3600 }, account: { threshold: 1_000_000, windowSeconds: 3600 }, ip: { threshold: 1_000_000, windowSeconds: 3600 }, lockSeconds: 60 };
  let connection: Connection;
  let limiter: LoginLimiter;
  // Frozen from the wall's hour, not a fixed date: rate-limiter-flexible dates the failure
  // counters (login_limits) on the wall clock itself, so the sweep test's day ahead on this clock
  // ended their windows only while the wall was within a day of a fixed start (it stopped on
  // 2026-12-01 and would have stayed broken).
  let nowMs = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const logs = captureLogs('info');

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    limiter = await createLoginLimiter({ backend: { kind: 'mongo' }, connection, policy, logger: logs.logger, sweepIntervalMs: 3_600_000, now: () => new Date(nowMs) });
  });
  after(async () => {
    limiter.close();
    await connection.close();
  });

  /**
   * A limiter on `on` whose sweeper runs only when the test says (`sweepNow`: the clock-jump
   * listener; the interval is longer than any test).
   */
  async function sweepingLimiter(on: Connection): Promise<{ sweeping: LoginLimiter; sweepNow: () => Promise<void> }> {
    let sweepNow: () => Promise<void> = async () => {};
    const sweeping = await createLoginLimiter({
      backend: { kind: 'mongo' },
      connection: on,
      policy,
      logger: logs.logger,
      sweepIntervalMs: 3_600_000,
      now: () => new Date(nowMs),
      onClockJump: (listener) => {
        sweepNow = listener;
        return () => {};
      },
    });
    return { sweeping, sweepNow: () => sweepNow() };
  }

  const lockoutsOf = (subject: string) =>
    logs.lines().filter((line) => line.msg === 'login lockout' && line.subject === subject && line.scope === 'account_ip');

  it('of failures arriving together once a lock has ended, exactly one locks the key again (one level up)', async () => {
    const rounds = 4;
    const burst = 16;
    for (let round = 0; round < 3; round += 1) {
      const subject = `user-${round}-${nowMs}`;
      const ip = randomIp();
      // The first lock: level 1, one minute.
      await limiter.recordFailure(subject, ip);
      expect(lockoutsOf(subject)).to.have.length(1);
      for (let again = 2; again <= rounds; again += 1) {
        // The lock ends; its record stays (the sweeper has not run).
        const [current] = (await limiter.listLockouts()).filter((lock) => lock.subject === subject);
        nowMs = current!.lockedUntil.getTime();
        expect((await limiter.check(subject, ip)).locked).to.equal(false);
        const states = await Promise.all(Array.from({ length: burst }, () => limiter.recordFailure(subject, ip)));
        expect(states.every((state) => state.locked)).to.equal(true);
        expect(lockoutsOf(subject), `locks after ${again} bursts, round ${round}`).to.have.length(again);
        const [lock] = (await limiter.listLockouts()).filter((l) => l.subject === subject);
        expect(lock, `round ${round}`).to.include({ level: again });
        expect(lock!.lockedUntil.getTime() - lock!.lockedAt.getTime()).to.equal(policy.lockSeconds * 1000 * 2 ** (again - 1));
      }
    }
  });

  it('the sweeper never deletes a lock claimed while it sweeps (an ended record locked again at that moment)', async () => {
    // Here the sweep runs while keys whose locks have ended are locked again.
    const { sweeping, sweepNow } = await sweepingLimiter(connection);
    try {
      const lost: string[] = [];
      for (let round = 0; round < 8; round += 1) {
        const keys = Array.from({ length: 12 }, (_, n) => ({ subject: `swept-${round}-${n}-${nowMs}`, ip: randomIp() }));
        await Promise.all(keys.map(({ subject, ip }) => sweeping.recordFailure(subject, ip)));
        // Every lock ends; the records stay until a sweep.
        nowMs += policy.lockSeconds * 1000;
        await Promise.all([sweepNow(), ...keys.map(({ subject, ip }) => sweeping.recordFailure(subject, ip))]);
        for (const { subject, ip } of keys) if (!(await sweeping.check(subject, ip)).locked) lost.push(`round ${round}: ${subject}`);
      }
      expect(lost, 'keys locked again whose new lock the sweep deleted').to.deep.equal([]);
    } finally {
      sweeping.close();
    }
  });

  it('sweeps ended records in a few commands however many there are, not three round trips per record', async () => {
    const watched = await connectMongo({ uri: database.uri, timeoutMs: 5000, watchCommands: true });
    const { sweeping, sweepNow } = await sweepingLimiter(watched);
    try {
      // Whatever earlier tests left ends too: the sweep takes them with these.
      const keys = Array.from({ length: 25 }, (_, n) => ({ subject: `batch-${n}-${nowMs}`, ip: randomIp() }));
      await Promise.all(keys.map(({ subject, ip }) => sweeping.recordFailure(subject, ip)));
      nowMs += policy.maxLockSeconds * 1000;
      const commands: string[] = [];
      const stop = watchMongoCommands(watched, (_store, command, target) => {
        if (target === 'login_lockouts' || target === 'login_limits' || target === LOCK_COLLECTION) commands.push(`${command} ${target}`);
      });
      try {
        await sweepNow();
      } finally {
        stop();
      }
      expect(await watched.collection('login_lockouts').countDocuments({})).to.equal(0);
      expect(await watched.collection(LOCK_COLLECTION).countDocuments({})).to.equal(0);
      // Read the ended records, lock them, delete them, release: one command each. The same for
      // the failure counters (the day the clock moved ended their windows too).
      expect(await watched.collection('login_limits').countDocuments({ expire: { $lte: new Date(nowMs) } })).to.equal(0);
      expect(commands).to.deep.equal([
        'find login_lockouts',
        `insert ${LOCK_COLLECTION}`,
        'delete login_lockouts',
        `delete ${LOCK_COLLECTION}`,
        'find login_limits',
        `insert ${LOCK_COLLECTION}`,
        'delete login_limits',
        `delete ${LOCK_COLLECTION}`,
      ]);
    } finally {
      sweeping.close();
      await watched.close();
    }
  });

  it("counts a failure's three counters under one lock insert and one release, not three of each", async () => {
    const watched = await connectMongo({ uri: database.uri, timeoutMs: 5000, watchCommands: true });
    const counting = await createLoginLimiter({
      backend: { kind: 'mongo' },
      connection: watched,
      policy: { ...policy, accountIp: { threshold: 1_000_000, windowSeconds: 3600 } },
      logger: logs.logger,
      sweepIntervalMs: 3_600_000,
      now: () => new Date(nowMs),
    });
    const commands: string[] = [];
    const stop = watchMongoCommands(watched, (_store, command, target) => {
      if (target === LOCK_COLLECTION) commands.push(`${command} ${target}`);
    });
    try {
      const subject = `one-lock-${nowMs}`;
      const ip = randomIp();
      await counting.recordFailure(subject, ip);
      await counting.recordFailure(subject, ip);
      expect(commands, 'lock commands of two failures').to.deep.equal([`insert ${LOCK_COLLECTION}`, `delete ${LOCK_COLLECTION}`, `insert ${LOCK_COLLECTION}`, `delete ${LOCK_COLLECTION}`]);
      expect(await watched.collection('login_limits').find({ key: { $regex: encodeURIComponent(subject) } }).project({ _id: 0, points: 1 }).toArray(), 'both failures counted on the pair and the account').to.deep.equal([{ points: 2 }, { points: 2 }]);
      expect(await watched.collection(LOCK_COLLECTION).countDocuments({})).to.equal(0);
    } finally {
      stop();
      counting.close();
      await watched.close();
    }
  });

  it('failures arriving together are all counted without Redis: the threshold locks after exactly that many', async () => {
    // Only the account counter can lock here; each failure comes from its own address.
    const threshold = 12;
    const counting = await createLoginLimiter({
      backend: { kind: 'mongo' },
      connection,
      policy: { ...policy, accountIp: { threshold: 1_000_000, windowSeconds: 3600 }, account: { threshold, windowSeconds: 3600 } },
      logger: logs.logger,
      sweepIntervalMs: 3_600_000,
      now: () => new Date(nowMs),
    });
    try {
      const lost: string[] = [];
      for (let round = 0; round < 4; round += 1) {
        const subject = `counted-${round}-${nowMs}`;
        await Promise.all(Array.from({ length: threshold - 1 }, () => counting.recordFailure(subject, randomIp())));
        const before = await counting.check(subject, randomIp());
        expect(before.locked, `round ${round}: locked one failure early`).to.equal(false);
        await counting.recordFailure(subject, randomIp());
        if (!(await counting.check(subject, randomIp())).locked) lost.push(`round ${round}`);
      }
      expect(lost, 'rounds where failures at the same moment were lost (the threshold not reached)').to.deep.equal([]);
    } finally {
      counting.close();
    }
  });
});
