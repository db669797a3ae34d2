/**
 * node bench/sign-in-budget.ts [--build name=path/to/main.js ...] [--concurrency N ...] [--seconds N] [--rounds N]
 *
 * Where the machine's CPU goes while complete sign-ins run (bench/compare.ts's sign-in scenario:
 * the hosted pages, argon2id at the configured cost, N users at a time), split across every
 * process that serves them: Gatehouse's event loop, its hashing threads and its other threads
 * (GC, libuv; by thread name from /proc), the load generator (this process: the browser side of
 * four HTTP requests and the app's code exchange), FerretDB, PostgreSQL (FerretDB's backend, its
 * backends included) and Redis — CPU milliseconds per sign-in, from /proc, and the cores all of
 * them used together (their CPU ÷ wall time) beside the machine's busy cores (/proc/stat: the
 * neighbours' too). Before the load, the machine's hash limit as `npm run bench` measures it
 * (single argon2id hashes one after another, cores ÷ the median hash time), the same by CPU time
 * (cores ÷ a hash's CPU: unlike wall time it holds on a loaded machine) and a hash's CPU when all
 * cores hash at once; each row says sign-ins ÷ both limits, the hash's share of a sign-in's CPU
 * (the ceiling of sign-ins ÷ the hash limit by CPU when the stack is CPU-bound on every core) and
 * that share if Gatehouse cost nothing but the hash (hash ÷ hash + load generator + stores). The
 * commands one sign-in sends (MongoDB, Redis as sent, PostgreSQL transactions) are printed
 * first. Several `--build`s and
 * `--concurrency` values take turns (A B B A per round) in one run. Shows whether the sign-in
 * scenario is CPU-bound (the stack uses the cores) or latency-bound at its concurrency (more
 * users at a time go faster), and what the hash-limit target would need. Never asserts timings.
 * Needs `npm run build`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { hash as argon2Hash } from '@node-rs/argon2';
import { OWASP_ARGON2_PARAMS } from '../src/accounts/argon2-params.ts';
import { startGatehouseProcess, type Child } from './lib/children.ts';
import { measureHashLimit } from './lib/hash-limit.ts';
import { table } from './lib/report.ts';
import { seed } from './lib/seed.ts';
import { loadSignIns } from './lib/sign-in-load.ts';
import { benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { round } from './lib/stats.ts';
import { storesCpuByStore, storeTransactions } from './lib/stores-cpu.ts';
import { commandCounts, gatehouseStoreSettings, openStores, perRequest, resetStores, watchRedisSent, type CommandCounts } from './lib/storage.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({
  options: {
    build: { type: 'string', multiple: true },
    concurrency: { type: 'string', multiple: true },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string' },
  },
});
const ROOT = new URL('..', import.meta.url).pathname;
const SECONDS = Number(flags.seconds ?? 8);
const WARMUP = Number(flags.warmup ?? 3);
const ROUNDS = Number(flags.rounds ?? 1);
const CONCURRENCIES = (flags.concurrency ?? ['4']).map(Number);
const builds = (flags.build ?? ['gatehouse=dist/main.js']).map((entry) => {
  const at = entry.indexOf('=');
  const path = entry.slice(at + 1);
  return { name: entry.slice(0, at), path: path.startsWith('/') ? path : `${ROOT}${path}` };
});
const log = (message: string) => process.stderr.write(`sign-in-budget: ${message}\n`);
const load = () => loadavg().map((value) => round(value, 1)).join(' ');
const TICK_MS = 10; // USER_HZ = 100

/** CPU ms so far of each of the server's threads, grouped: the event loop, the hashing threads, the rest. */
function serverCpu(pid: number): { loop: number; hash: number; other: number; byName: Map<string, number> } {
  const out = { loop: 0, hash: 0, other: 0, byName: new Map<string, number>() };
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const ms = ns / 1e6;
      if (Number(tid) === pid) out.loop += ms;
      else if (isHashThread(pid, Number(tid))) out.hash += ms;
      else {
        out.other += ms;
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        out.byName.set(name, (out.byName.get(name) ?? 0) + ms);
      }
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/**
 * The hashing pool's threads: src/accounts/hash-worker.ts lowers each worker thread's priority
 * (HASH_WORKER_NICE), so they are the threads whose nice value is above the main thread's.
 */
function niceOf(pid: number, tid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}
function isHashThread(pid: number, tid: number): boolean {
  return niceOf(pid, tid) > niceOf(pid, pid);
}

/** The machine's busy and total CPU ms so far (/proc/stat, all cores): neighbours included. */
function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0) * TICK_MS;
  const idle = (fields[3]! + fields[4]!) * TICK_MS;
  return { busy: total - idle, total };
}

function clientCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

const { mongodbUri, redisUrl } = benchServicesUp('gatehouse_sign_in_budget');
const stores = await openStores(mongodbUri, redisUrl);
const prefix = 'gatehouse-budget:';
await resetStores(stores, prefix);
const settings = gatehouseStoreSettings(mongodbUri, redisUrl, prefix);
log('seeding');
const fixture = await seed({ settings, users: 32, storageUsers: 0, cheapHashSettings: {} });

log(`measuring the hash limit (single argon2id hashes, no server running yet), load average ${load()}`);
const hashLimit = await measureHashLimit(OWASP_ARGON2_PARAMS, 30);
const hashCpuMs = hashLimit.cpuMsPerHash;
const hashLimitByCpu = hashLimit.perSecondByCpu;
/**
 * A hash's CPU time when every core hashes at once (they share memory bandwidth and caches): if it
 * is higher than a lone hash's, the hash limit (which multiplies a lone hash by the cores)
 * overstates what the machine can verify. CPU time, not wall time: it holds on a loaded machine.
 */
const parallelHashCpuMs = await (async () => {
  const options = { algorithm: 2, memoryCost: OWASP_ARGON2_PARAMS.memoryKiB, timeCost: OWASP_ARGON2_PARAMS.iterations, parallelism: OWASP_ARGON2_PARAMS.parallelism };
  const each = 15;
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: hashLimit.cores }, async (_, lane) => {
    for (let index = 0; index < each; index += 1) await argon2Hash(`parallel ${lane} ${index}`, options);
  }));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / (hashLimit.cores * each);
})();

const children: Child[] = [];
try {
  for (const build of builds) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn' };
    children.push(await startGatehouseProcess(build.name, [build.path], env, url));
  }
  // Warm-up: JIT, connection pools, the hashing pool's threads started.
  for (const child of children) {
    const warm = await loadSignIns(child.url, fixture.clients.web, fixture.users, WARMUP, 4);
    log(`${child.name}: warm-up ${warm.signIns} sign-ins`);
  }

  // The commands one sign-in sends (the first build, 4 at a time, outside the timed segments).
  {
    const child = children[0]!;
    const counted = await loadSignIns(child.url, fixture.clients.web, fixture.users, 1, 4);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the once-a-second batches
    const before = await commandCounts(stores);
    const transactionsBefore = storeTransactions(ROOT);
    const watch = await watchRedisSent(stores);
    const measured = await loadSignIns(child.url, fixture.clients.web, fixture.users, 3, 4);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const sent = await watch.stop();
    const after: CommandCounts = { ...(await commandCounts(stores)), ...sent };
    await new Promise((resolve) => setTimeout(resolve, 11_000)); // PostgreSQL publishes an idle backend's counters late
    const transactionsAfter = storeTransactions(ROOT);
    log(`${counted.signIns} + ${measured.signIns} sign-ins; commands per sign-in: ${JSON.stringify(perRequest(before, after, measured.signIns))}; PostgreSQL transactions per sign-in: ${transactionsBefore === undefined || transactionsAfter === undefined ? 'n/a' : round((transactionsAfter - transactionsBefore - 1) / measured.signIns, 2)}`);
  }

  interface Totals { byName: Map<string, number>; signIns: number; seconds: number; loop: number; hash: number; other: number; client: number; mongo: number; postgres: number; redis: number; machineBusy: number; machineTotal: number; p50: number[]; errors: number }
  const totals = new Map<string, Totals>();
  const key = (name: string, concurrency: number) => `${name}@${concurrency}`;
  log(`${children.map((child) => child.name).join(', ')}; concurrency ${CONCURRENCIES.join(', ')}; ${SECONDS} s each, ${ROUNDS} round(s); load average ${load()}`);
  for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex += 1) {
    const order = CONCURRENCIES.flatMap((concurrency) => children.map((child) => ({ child, concurrency })));
    for (const { child, concurrency } of roundIndex % 2 === 0 ? order : [...order].reverse()) {
      const pid = child.process.pid!;
      const server0 = serverCpu(pid);
      const stores0 = storesCpuByStore(ROOT);
      const client0 = clientCpuMs();
      const machine0 = machineCpu();
      const measured = await loadSignIns(child.url, fixture.clients.web, fixture.users, SECONDS, concurrency);
      const server1 = serverCpu(pid);
      const stores1 = storesCpuByStore(ROOT);
      const client1 = clientCpuMs();
      const machine1 = machineCpu();
      if (measured.firstError !== undefined) log(`${child.name}: ${measured.firstError}`);
      const entry = totals.get(key(child.name, concurrency)) ?? { byName: new Map<string, number>(), signIns: 0, seconds: 0, loop: 0, hash: 0, other: 0, client: 0, mongo: 0, postgres: 0, redis: 0, machineBusy: 0, machineTotal: 0, p50: [], errors: 0 };
      entry.signIns += measured.signIns;
      entry.seconds += measured.seconds;
      entry.loop += server1.loop - server0.loop;
      entry.hash += server1.hash - server0.hash;
      entry.other += server1.other - server0.other;
      for (const [name, ms] of server1.byName) entry.byName.set(name, (entry.byName.get(name) ?? 0) + ms - (server0.byName.get(name) ?? 0));
      entry.client += client1 - client0;
      entry.mongo += stores1.mongo - stores0.mongo;
      entry.postgres += stores1.postgres - stores0.postgres;
      entry.redis += stores1.redis - stores0.redis;
      entry.machineBusy += machine1.busy - machine0.busy;
      entry.machineTotal += machine1.total - machine0.total;
      entry.p50.push(measured.p50Ms);
      entry.errors += measured.errors;
      totals.set(key(child.name, concurrency), entry);
      log(`${child.name} × ${concurrency}: ${measured.signIns} sign-ins, ${round(measured.perSecond)} /s, load average ${load()}`);
    }
  }
  const rows: Array<Array<string | number | null>> = [];
  for (const concurrency of CONCURRENCIES) {
    for (const child of children) {
      const t = totals.get(key(child.name, concurrency))!;
      const per = (ms: number) => round(ms / Math.max(1, t.signIns), 2);
      const stack = t.loop + t.hash + t.other + t.client + t.mongo + t.postgres + t.redis;
      rows.push([
        child.name,
        concurrency,
        round(t.signIns / t.seconds),
        round(t.signIns / t.seconds / hashLimit.perSecond, 3),
        round(t.signIns / t.seconds / hashLimitByCpu, 3),
        round(t.p50.reduce((sum, value) => sum + value, 0) / t.p50.length),
        per(t.loop),
        per(t.hash),
        per(t.other),
        per(t.client),
        per(t.mongo),
        per(t.postgres),
        per(t.redis),
        per(stack),
        round((100 * t.hash) / Math.max(1, stack)),
        // CPU-bound on every core, sign-ins ÷ the hash limit by CPU cannot pass the hash's share of a sign-in's CPU.
        round(t.hash / Math.max(1, stack), 2),
        // ... nor, if Gatehouse spent nothing but the hash, the hash's share of hash + load generator + stores.
        round(t.hash / Math.max(1, t.hash + t.client + t.mongo + t.postgres + t.redis), 2),
        round(stack / 1000 / t.seconds, 2),
        round((t.machineBusy / Math.max(1, t.machineTotal)) * availableParallelism(), 2),
        t.errors,
      ]);
    }
  }
  const otherThreads = [...totals].map(([name, t]) => `${name}: ${[...t.byName].filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]).map(([thread, ms]) => `${thread} ${round(ms / Math.max(1, t.signIns), 2)}`).join(', ')}`);
  process.stdout.write(
    `hash limit: ${round(hashLimit.perSecond)} /s (${hashLimit.cores} cores, median hash ${round(hashLimit.medianHashMs, 2)} ms); by CPU ${round(hashLimitByCpu)} /s (${round(hashCpuMs, 2)} ms of CPU a hash); ${round(parallelHashCpuMs, 2)} ms of CPU a hash with all cores hashing at once\n` +
      `${table(['build', 'users at a time', 'sign-ins/s', '÷ hash limit', '÷ hash limit by CPU', 'p50 ms', 'event loop ms/sign-in', 'hashing threads', 'other threads', 'load generator', 'FerretDB', 'PostgreSQL', 'Redis', 'all ms/sign-in',  'hash % of all', 'ceiling: hash ÷ all', 'ceiling if Gatehouse cost only the hash', 'cores used by all', 'machine busy cores', 'errors'], rows)}\n` +
      `other threads, ms per sign-in by thread name: ${otherThreads.join('; ')}\n` +
      `load average after: ${load()}\n`,
  );
} finally {
  for (const child of children) await child.stop();
  await stores.close();
  benchServices('down');
}
