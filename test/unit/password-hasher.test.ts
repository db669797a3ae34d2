import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { hashSync } from '@node-rs/argon2';
import { needsRehash, OWASP_ARGON2_PARAMS, parseArgon2Hash, type Argon2Params } from '../../src/accounts/argon2-params.ts';
import { HashQueueFullError } from '../../src/accounts/errors.ts';
import { HASH_WORKER_NICE } from '../../src/accounts/hash-worker.ts';
import { createPasswordHasher, type HashPoolEvent, type PasswordHasher } from '../../src/accounts/hash-pool.ts';
import { within } from '../helpers/poll.ts';

const LOW: Argon2Params = { memoryKiB: 1024, iterations: 1, parallelism: 1 };
const CRASHING_WORKER = new URL('../fixtures/crashing-hash-worker.ts', import.meta.url);
const CHATTY_WORKER = new URL('../fixtures/chatty-hash-worker.ts', import.meta.url);

/**
 * Polls until the condition holds, for as long as the running test may take (within(): it fails
 * 2 s before the test's own timeout, naming the wait). A worker exits at a low CPU priority
 * (nice), which a busy machine runs last: a fixed 10 s was a bet on the machine's load.
 */
const eventually = (condition: () => boolean): Promise<number> => within(Number.POSITIVE_INFINITY, async () => condition());

describe('password hashing pool (argon2id in worker threads)', function () {
  // The workers hash at a lower CPU priority (nice), so a busy machine starves them first.
  this.timeout(120_000);
  const hashers: PasswordHasher[] = [];
  const open = (...args: Parameters<typeof createPasswordHasher>) => {
    const hasher = createPasswordHasher(...args);
    hashers.push(hasher);
    return hasher;
  };
  afterEach(async () => {
    await Promise.all(hashers.splice(0).map((hasher) => hasher.close()));
  });

  it('hashes with argon2id at the OWASP defaults: $argon2id$v=19$m=19456,t=2,p=1', async () => {
    const hasher = open({ params: OWASP_ARGON2_PARAMS, size: 1, queueLimit: 4 });
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await hasher.verify(hash, 'correct horse battery staple')).to.equal(true);
    expect(await hasher.verify(hash, 'correct horse battery stapl')).to.equal(false);
    expect(hasher.needsRehash(hash)).to.equal(false);
  });

  it('salts every hash and treats a malformed stored hash as a mismatch', async () => {
    const hasher = open({ params: LOW, size: 1, queueLimit: 4 });
    const [a, b] = await Promise.all([hasher.hash('same password'), hasher.hash('same password')]);
    expect(a).not.to.equal(b);
    expect(await hasher.verify('not-a-hash', 'same password')).to.equal(false);
    expect(await hasher.verifyDummy('same password')).to.equal(false);
  });

  it('flags hashes made with other parameters or algorithms for rehashing', () => {
    const current = { memoryKiB: 2048, iterations: 2, parallelism: 1 };
    const old = hashSync('pw', { algorithm: 2, memoryCost: 1024, timeCost: 2, parallelism: 1 });
    const argon2i = hashSync('pw', { algorithm: 1, memoryCost: 2048, timeCost: 2, parallelism: 1 });
    const same = hashSync('pw', { algorithm: 2, memoryCost: 2048, timeCost: 2, parallelism: 1 });
    expect(parseArgon2Hash(old)).to.include({ algorithm: 'argon2id', memoryKiB: 1024, iterations: 2, parallelism: 1 });
    expect(needsRehash(old, current)).to.equal(true);
    expect(needsRehash(argon2i, current)).to.equal(true);
    expect(needsRehash('$2b$10$abcdefghijklmnopqrstuu', current)).to.equal(true);
    expect(needsRehash(same, current)).to.equal(false);
  });

  it('keeps the event loop free: the argon2 work runs on other threads, not the main one (CPU time, not wall time)', async () => {
    const heavy = { memoryKiB: 65_536, iterations: 3, parallelism: 1 };
    const hasher = open({ params: heavy, size: 2, queueLimit: 8 });
    await hasher.hash('start the workers first');
    // CPU time each thread used, which a busy machine does not inflate the way it stretches wall time.
    const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
    const processBefore = process.cpuUsage();
    const mainBefore = process.threadCpuUsage();
    const hashes = await Promise.all(Array.from({ length: 8 }, (_, i) => hasher.hash(`password ${i}`)));
    const main = cpuMs(process.threadCpuUsage(mainBefore));
    const all = cpuMs(process.cpuUsage(processBefore));
    expect(hashes).to.have.length(8);
    // Eight 64 MiB hashes cost real CPU; had they run on the main thread, it would show there.
    expect(all, 'CPU time of the whole process').to.be.greaterThan(100);
    expect(main, `main thread ${main.toFixed(0)} ms of ${all.toFixed(0)} ms CPU`).to.be.lessThan(all / 4);
  });

  it('rejects with HashQueueFullError (with a Retry-After hint) once the bounded queue is full', async () => {
    const events: HashPoolEvent[] = [];
    const hasher = open({ params: { memoryKiB: 32_768, iterations: 2, parallelism: 1 }, size: 1, queueLimit: 2, observe: (e) => events.push(e) });
    const accepted = [hasher.hash('a'), hasher.hash('b'), hasher.hash('c')]; // 1 running + 2 queued
    expect(hasher.stats()).to.deep.equal({ size: 1, workers: 1, busy: 1, queued: 2, queueLimit: 2 });
    let rejection: unknown;
    await hasher.verify('x', 'd').catch((error: unknown) => (rejection = error));
    expect(rejection).to.be.instanceOf(HashQueueFullError);
    expect((rejection as HashQueueFullError).retryAfterSeconds).to.be.a('number').and.to.be.at.least(1);
    expect((rejection as HashQueueFullError).status).to.equal(503);
    await Promise.all(accepted);
    expect(events.filter((e) => e.type === 'rejected')).to.have.length(1);
    const completed = events.filter((e) => e.type === 'completed');
    expect(completed).to.have.length(3);
    for (const event of completed) expect(event.runMs).to.be.greaterThan(0);
    // Capacity comes back once the queue drains.
    expect(await hasher.verify(await hasher.hash('e'), 'e')).to.equal(true);
  });

  // Linux only, like the machines these tests run on (/proc, per-thread nice values).
  it('hashes at a lower CPU priority than the event loop (Linux: per-thread nice)', async () => {
    const niceOfThreads = () =>
      readdirSync('/proc/self/task').map((tid) => {
        // Field 19 of /proc/<pid>/task/<tid>/stat (after the parenthesised command name) is the nice value.
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        return { tid: Number(tid), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
      });
    // Relative to the process's own priority: `nice npm test` (or a niced service) starts above 0,
    // and hashing must still land below the event loop, never above it.
    const mainNice = niceOfThreads().find(({ tid }) => tid === process.pid)?.nice ?? 0;
    const before = new Set(niceOfThreads().map(({ tid }) => tid));
    const hasher = open({ params: LOW, size: 1, queueLimit: 4 });
    await hasher.hash('priority');
    const started = niceOfThreads().filter(({ tid }) => !before.has(tid));
    expect(started.map(({ nice }) => nice), 'the worker thread(s) started for hashing').to.include(
      Math.min(19, mainNice + HASH_WORKER_NICE),
    );
    expect(niceOfThreads().find(({ tid }) => tid === process.pid)?.nice, 'the main thread').to.equal(mainNice);
  });

  it('starts no worker until the first hash, then only as many as the work needs', async () => {
    const hasher = open({ params: LOW, size: 2, queueLimit: 4 });
    expect(hasher.stats()).to.include({ size: 2, workers: 0, busy: 0 });
    await hasher.verifyDummy('first');
    expect(hasher.stats().workers, 'one job starts one worker').to.equal(1);
    await hasher.hash('one after another');
    expect(hasher.stats().workers, 'an idle worker is reused before another starts').to.equal(1);
    const together = [hasher.hash('a'), hasher.hash('b')];
    expect(hasher.stats()).to.include({ workers: 2, busy: 2 });
    await Promise.all(together);
    await hasher.hash('c');
    expect(hasher.stats().workers, 'never more than size').to.equal(2);
  });

  it('warms up one worker ahead of work (a sign-in form on screen), none while one is idle or the pool is full', async () => {
    const hasher = open({ params: LOW, size: 2, queueLimit: 4, idleTimeoutMs: 200 });
    hasher.warmUp();
    expect(hasher.stats().workers).to.equal(1);
    hasher.warmUp();
    expect(hasher.stats().workers, 'an idle (booting) worker is enough').to.equal(1);
    const running = hasher.hash('runs on the warmed-up worker');
    expect(hasher.stats()).to.include({ workers: 1, busy: 1 });
    hasher.warmUp();
    expect(hasher.stats().workers, 'all busy: another one warms up').to.equal(2);
    hasher.warmUp();
    expect(hasher.stats().workers, 'never more than size').to.equal(2);
    await running;
    // A warmed-up worker that gets no job idles out like any other.
    await eventually(() => hasher.stats().workers === 0);
  });

  it('lets a worker that idles past the timeout exit; the next hash starts one again', async () => {
    const events: HashPoolEvent[] = [];
    const hasher = open({ params: LOW, size: 1, queueLimit: 4, idleTimeoutMs: 200, observe: (e) => events.push(e) });
    const first = await hasher.hash('before idling');
    expect(hasher.stats().workers).to.equal(1);
    await eventually(() => hasher.stats().workers === 0);
    const second = await hasher.hash('after idling');
    expect(hasher.stats().workers).to.equal(1);
    expect(await hasher.verify(first, 'before idling')).to.equal(true);
    expect(await hasher.verify(second, 'after idling')).to.equal(true);
    expect(events.filter((e) => e.type === 'completed')).to.have.length(4);
  });

  it('never retires a busy worker: a job longer than the idle timeout completes', async () => {
    const hasher = open({ params: { memoryKiB: 32_768, iterations: 3, parallelism: 1 }, size: 1, queueLimit: 4, idleTimeoutMs: 1 });
    const hashes = await Promise.all([hasher.hash('a'), hasher.hash('b'), hasher.hash('c')]);
    expect(hashes).to.have.length(3);
    await eventually(() => hasher.stats().workers === 0);
  });

  it('replaces a worker that crashes: its job fails with HashPoolError, waiting and later jobs run on a new worker', async () => {
    const hasher = open({ params: LOW, size: 1, queueLimit: 4, workerUrl: CRASHING_WORKER });
    const crashed = hasher.hash('crash').then(() => 'hashed', (error: Error) => error.name);
    const waiting = hasher.hash('queued behind the crash');
    expect(await crashed).to.equal('HashPoolError');
    expect(await waiting).to.match(/^\$argon2id\$/);
    expect(hasher.stats()).to.include({ workers: 1, busy: 0 });
    expect(await hasher.verify(await hasher.hash('later'), 'later')).to.equal(true);
  });

  it('gives up on workers that keep crashing instead of respawning forever', async () => {
    const hasher = open({ params: LOW, size: 1, queueLimit: 8, workerUrl: CRASHING_WORKER });
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) outcomes.push(await hasher.hash('crash').then(() => 'hashed', (error: Error) => error.message));
    expect(outcomes.slice(0, 4).every((message) => message === 'password hashing worker exited'), outcomes.join('; ')).to.equal(true);
    expect(outcomes[4]).to.match(/keep failing/);
    expect(hasher.stats().workers).to.equal(0);
  });

  it('takes only its replies from a worker: other messages on the port (node --watch-path announcing imports, npm run dev) are ignored', async () => {
    const hasher = open({ params: LOW, size: 2, queueLimit: 8, workerUrl: CHATTY_WORKER });
    const hash = await hasher.hash('alice-password-1');
    expect(hash).to.match(/^\$argon2id\$/);
    const verified = await Promise.all(Array.from({ length: 6 }, () => hasher.verify(hash, 'alice-password-1')));
    expect(verified).to.deep.equal([true, true, true, true, true, true]);
  });

  it('rejects queued work on close', async () => {
    const hasher = createPasswordHasher({ params: { memoryKiB: 32_768, iterations: 2, parallelism: 1 }, size: 1, queueLimit: 4 });
    const pending = [hasher.hash('a'), hasher.hash('b')].map((p) => p.then(() => 'done', (e: Error) => e.name));
    await hasher.close();
    expect(await Promise.all(pending)).to.include('HashPoolError');
  });
});
