/**
 * node bench/compare.ts [--build name=path/to/main.js ...] [--env name:SETTING=value ...] [--node-arg name:--flag ...] [--no-reference] [--scenario NAME ...]
 *                       [--seconds N] [--warmup N] [--settle [--settle-window S] [--settle-max S]] [--rate N] [--connections N] [--rounds N] [--pg-transactions] [--idle-after S] [--allocations]
 *
 * A/B of Gatehouse builds on the stateless scenarios, beside the library's in-memory reference
 * (bench/reference-server.ts), in one run: every build and the reference are started at once
 * and measured in A B C C B A order per scenario (--rounds times), so the shared machine's drift
 * hits all alike. What a change buys is the ratio of its build to the build before it (or to the
 * reference) in the same run; absolute numbers are only what the machine did then. A build may
 * run with workers (`--env name:GATEHOUSE_WORKERS=2`): CPU and memory are then its whole process
 * tree's (supervisor and workers), and each server's RSS idle after the start and after the
 * scenarios (and, with `--idle-after S`, after S more seconds without load, and its ratio to the
 * idle RSS after the start, its CPU over that idle wait as a share of a core — the idle floor —,
 * and each server's memory in parts at the three moments: V8 heap
 * committed and used, external, malloc's arenas, open sockets — bench/lib/memory-parts.ts; the
 * builds then serve /metrics on a port of their own) is printed first. Besides
 * requests per second it reports each server's CPU time per request (user + system, all its
 * threads, from /proc) and the stores' (FerretDB, PostgreSQL, Redis): CPU time, unlike
 * throughput, holds on a machine others are loading too. With FerretDB on PostgreSQL and
 * `--pg-transactions` it also counts PostgreSQL transactions per request (what FerretDB made of
 * the writes; PostgreSQL publishes an idle backend's counters up to 10 s late, so each segment
 * is followed by 11 s without load). Default
 * build: `gatehouse=dist/main.js` (needs `npm run build`); copy an older dist elsewhere inside
 * the repository (so it finds node_modules) to compare. `--env name:SETTING=value` starts build
 * `name` with that setting as well (e.g. `--build counted=dist/main.js --env
 * counted:GATEHOUSE_AUDIT_CLIENT_CREDENTIALS=per-minute` puts a setting beside the default; an
 * empty value unsets it: `--env name:REDIS_URL=` runs that build without Redis).
 * `--node-arg name:--flag` starts build `name` as `node --flag main.js` (V8 and Node options that
 * NODE_OPTIONS refuses, e.g. `--single-threaded-gc`; with workers the supervisor passes its own
 * options on to them); `--node-arg reference:--flag` does the same for the reference. With
 * `BENCH_SERVER_STDOUT_DIR=<dir>` in the environment every server's standard output is kept in
 * `<dir>/<name>-<pid>.out` (e.g. `--node-arg now:--trace-gc --node-arg reference:--trace-gc`
 * leaves each collection's kind and reason there). Each server's threads and, per scenario, its context switches per request
 * (voluntary: a thread waited; involuntary: the scheduler took its core away), whole tree and
 * event loops alone, the time its event loops were runnable but waited for a core (schedstat),
 * the cores it used on average (CPU time ÷ wall time) and, with workers, how the event loops'
 * CPU was shared among its processes (busiest first) are reported beside CPU. Never asserts
 * timings.
 * Scenarios (requests from bench/lib/scenarios.ts): cc-rs256, cc-es256, cc-opaque, introspect-jwt,
 * introspect-opaque, userinfo, refresh (rotation:
 * each server gets 8 token chains per connection, every answer's successor goes back into its
 * pool), sign-in (complete sign-ins on the hosted pages, argon2id at the configured cost, 4 users
 * at a time; builds only, the reference has no pages: each build's CPU per sign-in includes the
 * hash, the same in every build, so a difference is the rest) (default: cc-rs256, introspect-jwt,
 * userinfo). The event loop's own CPU per request is shown beside the process's, and the median of the
 * segments' CPU per request beside the total (a neighbour's burst inflates a segment or two, not the median).
 * `--allocations` loads bench/lib/allocation-probe.ts into every server (`node --import`) and adds
 * the bytes each one's V8 heap allocated per request: unlike CPU time it does not move with the
 * machine's load, so what a change removes from a request's garbage (and the GC work that follows
 * it) reads the same in a loaded run as in a quiet one; beside it the bytes young collections
 * promoted to the old generation per request, full collections per 10,000 requests and the main
 * thread's GC pause per request (what drives the collector's work on V8's helper threads).
 * The CPU of the threads outside the event loops is listed per request by thread name
 * (`V8Worker`: V8's helper threads — parallel scavenges, concurrent marking, background
 * compiles —; `libuv-worker`: WebCrypto's signatures): what the whole process spends that its
 * event loop does not (bench/profile.ts --perf says what those threads did).
 * `--settle` warms each server up per scenario until its JIT has finished instead of for a fixed
 * `--warmup`: windows of `--settle-window` seconds (5) of the same load, at least `--warmup`
 * seconds in all and at most `--settle-max` (240), until the JIT has stopped adding work
 * (bench/lib/settle.ts: the last six windows, three at a time, with the `V8Worker` threads' CPU
 * per request within a quarter (+10 µs) of the lowest any three in a row read, and with
 * `--allocations` the last three under 64 KiB of new machine code each). Each window is logged (req/s, `V8Worker` and event-loop µs/req, and with
 * `--allocations` the machine code the JIT added), and a table says how long each server took. The compiler's CPU is a cost of a short bench, not of a request in a long-running
 * process, and Gatehouse has far more code on a request's path than the reference: read the
 * whole-process ratio to the reference with `--settle` (docs/PERFORMANCE.md, perf17 and perf20).
 * `--rate N` sends each server at most N requests per second in the measured segments (the
 * warm-up runs as fast as it answers: the JIT counts calls, not seconds; autocannon's `overallRate`), so that every server is read at the same rate: CPU per request falls as the rate
 * rises (more requests per event-loop turn, per-second costs spread wider), so at saturation a
 * faster server reads cheaper per request than at the rate a slower one reaches (perf20). Pick N
 * below every server's rate on the machine at the time; a server that fell short shows it in its
 * req/s column.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { rssBytes, startGatehouseProcess, startReference, type Child } from './lib/children.ts';
import { runOnce, type RequestSpec, type Target } from './lib/load.ts';
import { memoryParts, metricsReader, partsTable, type MemoryParts } from './lib/memory-parts.ts';
import { table } from './lib/report.ts';
import { scenarioRequest, TOKEN_SCENARIOS } from './lib/scenarios.ts';
import { seed } from './lib/seed.ts';
import { loadSignIns } from './lib/sign-in-load.ts';
import { benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { round } from './lib/stats.ts';
import { commandCounts, gatehouseStoreSettings, openStores, resetStores, type CommandCounts } from './lib/storage.ts';
import { eventLoopCpuByProcess, processTree, treeContextSwitches, treeCpuByThreadName, treeCpuMs, treeEventLoopCpuMs, treeRunQueueWaitMs, treeThreads } from './lib/process-tree.ts';
import { storesCpuMs, storeTransactions } from './lib/stores-cpu.ts';
import { DEFAULT_SETTLE_RULE, helpersPerRequest, settled, type WarmupWindow } from './lib/settle.ts';
import { usage, usageOnHelp } from './lib/usage.ts';

const SCENARIOS = [...TOKEN_SCENARIOS, 'sign-in'] as const;
/** Users signing in at a time in the sign-in scenario (as bench/vs-keycloak.ts). */
const SIGN_IN_USERS = 4;
type Scenario = (typeof SCENARIOS)[number];

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({
  options: {
    build: { type: 'string', multiple: true },
    env: { type: 'string', multiple: true },
    'node-arg': { type: 'string', multiple: true },
    'no-reference': { type: 'boolean' },
    scenario: { type: 'string', multiple: true },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    rounds: { type: 'string' },
    'pg-transactions': { type: 'boolean' },
    'idle-after': { type: 'string' },
    allocations: { type: 'boolean' },
    settle: { type: 'boolean' },
    rate: { type: 'string' },
    'settle-window': { type: 'string' },
    'settle-max': { type: 'string' },
  },
});
const ROOT = new URL('..', import.meta.url).pathname;
/** MongoDB commands the store has served so far (serverStatus; a client_credentials token's only ones are its audit event's batched inserts). */
const mongoCommands = (counts: CommandCounts) => Object.entries(counts).reduce((sum, [name, count]) => (name.startsWith('mongo.') ? sum + count : sum), 0);
const SECONDS = Number(flags.seconds ?? 6);
const WARMUP = Number(flags.warmup ?? 2);
const CONNECTIONS = Number(flags.connections ?? 16);
const ROUNDS = Number(flags.rounds ?? 1);
const SETTLE = flags.settle === true;
/** `--rate N`: at most N requests per second to each server (one rate for all of them), or as fast as they answer. */
const RATE = flags.rate === undefined ? undefined : Number(flags.rate);
if (RATE !== undefined && !(RATE > 0)) usage('--rate must be a positive number of requests per second');
const SETTLE_WINDOW = Number(flags['settle-window'] ?? 5);
const SETTLE_MAX = Number(flags['settle-max'] ?? 240);
if (!(SETTLE_WINDOW > 0) || !(SETTLE_MAX >= SETTLE_WINDOW)) usage('--settle-window must be a positive number of seconds and --settle-max at least as long');
/** With --allocations: where each server's probe (bench/lib/allocation-probe.ts) writes the bytes its heap allocated so far. */
const PROBE_DIR = flags.allocations === true ? `${new URL('..', import.meta.url).pathname}.data/bench/allocations` : undefined;
const PROBE = new URL('./lib/allocation-probe.ts', import.meta.url).pathname;
if (PROBE_DIR !== undefined) {
  rmSync(PROBE_DIR, { recursive: true, force: true });
  // The reference inherits the environment; the builds get it with their settings.
  process.env.BENCH_ALLOCATION_PROBE_DIR = PROBE_DIR;
}
interface ProbeReading {
  /** Bytes allocated on the V8 heap. */
  allocated: number;
  /** Bytes young collections moved into the old generation. */
  promoted: number;
  /** Full (mark-compact) collections. */
  full: number;
  /** The main thread's pause in all collections, µs. */
  pauseUs: number;
  /** Bytes of machine code in the code spaces now. */
  code: number;
}
/** What a server's heaps (every process of its tree) did so far, as its probes last wrote it; zeros without --allocations. */
function probeReading(pid: number): ProbeReading {
  const sum: ProbeReading = { allocated: 0, promoted: 0, full: 0, pauseUs: 0, code: 0 };
  if (PROBE_DIR === undefined) return sum;
  for (const each of processTree(pid)) {
    try {
      const read = JSON.parse(readFileSync(`${PROBE_DIR}/${each}.json`, 'utf8')) as { allocatedBytes: number; promotedBytes?: number; fullCollections?: number; pauseUs?: number; codeBytes?: number };
      sum.allocated += read.allocatedBytes;
      sum.promoted += read.promotedBytes ?? 0;
      sum.full += read.fullCollections ?? 0;
      sum.pauseUs += read.pauseUs ?? 0;
      sum.code += read.codeBytes ?? 0;
    } catch {
      // a process without a probe (yet): nothing counted for it
    }
  }
  return sum;
}
/** The probe writes every 50 ms: a reading right after a segment waits for one more write. */
const probeSettled = () => (PROBE_DIR === undefined ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, 120)));
const scenarios = (flags.scenario ?? ['cc-rs256', 'introspect-jwt', 'userinfo']) as Scenario[];
for (const scenario of scenarios) if (!SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${SCENARIOS.join(', ')}`);
const builds = (flags.build ?? ['gatehouse=dist/main.js']).map((entry) => {
  const at = entry.indexOf('=');
  const path = entry.slice(at + 1);
  return { name: entry.slice(0, at), path: path.startsWith('/') ? path : `${ROOT}${path}` };
});
/** Extra settings per build name (`--env name:SETTING=value`). */
const buildEnv = new Map<string, Record<string, string>>();
for (const entry of flags.env ?? []) {
  const match = /^([^:]+):([A-Z0-9_]+)=(.*)$/.exec(entry);
  if (match === null) throw new Error(`--env must look like name:SETTING=value, not ${entry}`);
  buildEnv.set(match[1]!, { ...buildEnv.get(match[1]!), [match[2]!]: match[3]! });
}
/** Extra node options per build name (`--node-arg name:--flag`). */
const buildNodeArgs = new Map<string, string[]>();
for (const entry of flags['node-arg'] ?? []) {
  const match = /^([^:]+):(--.+)$/.exec(entry);
  if (match === null) throw new Error(`--node-arg must look like name:--flag, not ${entry}`);
  buildNodeArgs.set(match[1]!, [...(buildNodeArgs.get(match[1]!) ?? []), match[2]!]);
}
const log = (message: string) => process.stderr.write(`compare: ${message}\n`);
const load = () => loadavg().map((value) => round(value, 2)).join(' ');

const { mongodbUri, redisUrl } = benchServicesUp('gatehouse_compare');
const stores = await openStores(mongodbUri, redisUrl);
const prefix = 'gatehouse-compare:';
await resetStores(stores, prefix);
const settings = gatehouseStoreSettings(mongodbUri, redisUrl, prefix);
log('seeding');
const fixture = await seed({ settings, users: scenarios.includes('sign-in') ? 8 : 2, storageUsers: 0, cheapHashSettings: {} });
mkdirSync(`${ROOT}.data/bench`, { recursive: true });
const fixturePath = `${ROOT}.data/bench/compare-fixture.json`;
writeFileSync(fixturePath, JSON.stringify(fixture), { mode: 0o600 });

const children: Child[] = [];

/** CPU milliseconds (user + system, all threads) a server has used so far: every process of its tree (GATEHOUSE_WORKERS), from /proc (Linux). */
function processCpuMs(pid: number): number {
  return treeCpuMs(pid);
}

/** The same for the main threads alone: the event loops (no hashing, GC or libuv threads). */
function eventLoopCpuMs(pid: number): number {
  return treeEventLoopCpuMs(pid);
}

/** The request one server gets for a scenario (tokens are minted on that server). */
async function specFor(scenario: Scenario, url: string, isReference: boolean): Promise<RequestSpec> {
  // Not an autocannon request: measure() runs complete sign-ins instead.
  if (scenario === 'sign-in') return { method: 'GET', path: '/', headers: {} };
  return scenarioRequest(scenario, { url, fixture, refreshTokens: CONNECTIONS * 8, reference: isReference });
}

/** One segment of load on one server: requests (or complete sign-ins) done, seconds, failures. */
async function measure(scenario: Scenario, target: Target, seconds: number, rate: number | undefined): Promise<{ requests: number; duration: number; errors: number }> {
  if (scenario === 'sign-in') {
    const measured = await loadSignIns(target.url, fixture.clients.web, fixture.users, seconds, SIGN_IN_USERS);
    if (measured.firstError !== undefined) log(`sign-in on ${target.key}: ${measured.firstError}`);
    return { requests: measured.signIns, duration: measured.seconds, errors: measured.errors };
  }
  const result = await runOnce(target, seconds, CONNECTIONS, Infinity, rate);
  return { requests: result.requests.total, duration: result.duration, errors: result.errors + result.timeouts + result.non2xx };
}

/** With --settle: how long each server's warm-up took per scenario, and its helper threads' CPU per request in the first and last window. */
const settleRows: Array<Array<string | number>> = [];

/**
 * A server's warm-up for a scenario: `--warmup` seconds of its load, or with --settle windows of
 * it until the JIT has finished (bench/lib/settle.ts), each window logged.
 */
async function warmUp(scenario: Scenario, target: Target, pid: number): Promise<void> {
  if (!SETTLE) {
    if (WARMUP > 0) await measure(scenario, target, WARMUP, undefined);
    return;
  }
  const windows: WarmupWindow[] = [];
  let seconds = 0;
  let requests = 0;
  while (seconds < SETTLE_MAX && (seconds < WARMUP || !settled(windows))) {
    const helpersBefore = treeCpuByThreadName(pid).get('V8Worker') ?? 0;
    const loopBefore = eventLoopCpuMs(pid);
    const codeBefore = probeReading(pid).code;
    const result = await measure(scenario, target, SETTLE_WINDOW, undefined);
    await probeSettled();
    const codeBytes = PROBE_DIR === undefined ? undefined : probeReading(pid).code - codeBefore;
    const window: WarmupWindow = { requests: result.requests, helpersMs: (treeCpuByThreadName(pid).get('V8Worker') ?? 0) - helpersBefore, codeBytes };
    windows.push(window);
    seconds += result.duration;
    requests += result.requests;
    const code = codeBytes === undefined ? '' : `, machine code ${codeBytes >= 0 ? '+' : ''}${round(codeBytes / 1024, 1)} KiB`;
    log(`settle ${scenario} ${target.key} ${windows.length}: ${round(result.requests / Math.max(0.001, result.duration))} req/s, V8Worker ${Math.round(helpersPerRequest(window))} µs/req, event loop ${Math.round(((eventLoopCpuMs(pid) - loopBefore) * 1000) / Math.max(1, result.requests))} µs/req${code}`);
  }
  const perRequest = windows.map(helpersPerRequest);
  settleRows.push([scenario, target.key, windows.length, Math.round(seconds), requests, Math.round(perRequest[0] ?? 0), Math.round(Math.min(...perRequest)), Math.round(perRequest.at(-1) ?? 0), settled(windows) ? 'yes' : `no (--settle-max ${SETTLE_MAX} s)`]);
}

/** Each build's /metrics (the reference has none). */
const metricsOf = new Map<string, () => Promise<string>>();
/** With --idle-after: each server's memory in parts (bench/lib/memory-parts.ts) idle after the start, after the scenarios and after the idle wait. */
const partsOf = new Map<string, Array<[string, MemoryParts]>>();
const readParts = async (moment: string) => {
  if (flags['idle-after'] === undefined) return;
  for (const child of children) partsOf.set(child.name, [...(partsOf.get(child.name) ?? []), [moment, await memoryParts(child.process.pid!, metricsOf.get(child.name))]]);
};

try {
  for (const build of builds) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn', ...buildEnv.get(build.name) };
    if (PROBE_DIR !== undefined) {
      // NODE_OPTIONS reaches GATEHOUSE_WORKERS' workers too: each process writes its own count.
      env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${PROBE}`.trim();
      env.BENCH_ALLOCATION_PROBE_DIR = PROBE_DIR;
    }
    // --idle-after: /metrics on a port of its own (production serves it nowhere otherwise), for the V8 heap's part of its memory.
    if (flags['idle-after'] !== undefined && env.GATEHOUSE_METRICS_PORT === undefined && env.GATEHOUSE_METRICS_TOKEN === undefined) env.GATEHOUSE_METRICS_PORT = String(await freePort());
    // An empty value unsets the setting (`--env name:REDIS_URL=`: that build runs without Redis).
    for (const [setting, value] of Object.entries(env)) if (value === '') delete env[setting];
    children.push(await startGatehouseProcess(build.name, [...(buildNodeArgs.get(build.name) ?? []), build.path], env, url));
    metricsOf.set(build.name, metricsReader(env, url));
  }
  if (flags['no-reference'] !== true) children.push(await startReference(fixturePath, [...(buildNodeArgs.get('reference') ?? []), ...(PROBE_DIR === undefined ? [] : [`--import=${PROBE}`])]));
  // Each server's memory (its whole process tree: with GATEHOUSE_WORKERS every worker) idle after the start, before any load.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const rssAtStart = new Map(children.map((child) => [child.name, rssBytes(child.process.pid!)]));
  const threadsAtStart = new Map(children.map((child) => [child.name, treeThreads(child.process.pid!)]));
  await readParts('idle after the start');
  log(`${children.map((child) => child.name).join(', ')}; ${SECONDS} s each per round, ${ROUNDS} round(s), ${CONNECTIONS} connections; ${RATE === undefined ? 'as fast as each server answers' : `at most ${RATE} requests/s to each server`}; warm-up ${SETTLE ? `until the JIT settles (windows of ${SETTLE_WINDOW} s, at least ${WARMUP} s, at most ${SETTLE_MAX} s)` : `${WARMUP} s`}; load average ${load()}`);
  const rows: Array<Array<string | number>> = [];
  for (const scenario of scenarios) {
    const targets: Target[] = [];
    for (const child of children) if (scenario !== 'sign-in' || child.name !== 'reference') targets.push({ key: child.name, url: child.url, spec: await specFor(scenario, child.url, child.name === 'reference') });
    const totals = new Map<string, { requests: number; seconds: number; cpuMs: number; loopMs: number; storesMs: number; mongoCommands: number; transactions: number | undefined; errors: number; switches: number; involuntary: number; loopSwitches: number; loopWaitMs: number; loopsByProcess: Map<number, number>; threadsByName: Map<string, number>; allocated: number; promoted: number; full: number; pauseUs: number }>();
    /** Each segment's process CPU µs per request: their median shrugs off a segment a neighbour's burst landed on. */
    const segmentCpu = new Map<string, number[]>();
    const pids = new Map(children.map((child) => [child.name, child.process.pid!]));
    for (const target of targets) await warmUp(scenario, target, pids.get(target.key)!);
    for (let index = 0; index < ROUNDS; index += 1) {
      for (const target of [...targets, ...[...targets].reverse()]) {
        const switchesBefore = treeContextSwitches(pids.get(target.key)!);
        const waitBefore = treeRunQueueWaitMs(pids.get(target.key)!);
        const loopsBefore = eventLoopCpuByProcess(pids.get(target.key)!);
        const threadsBefore = treeCpuByThreadName(pids.get(target.key)!);
        const cpuBefore = processCpuMs(pids.get(target.key)!);
        const loopBefore = eventLoopCpuMs(pids.get(target.key)!);
        const storesBefore = storesCpuMs(ROOT);
        const transactionsBefore = flags['pg-transactions'] === true ? storeTransactions(ROOT) : undefined;
        const commandsBefore = mongoCommands(await commandCounts(stores));
        const probeBefore = probeReading(pids.get(target.key)!);
        const result = await measure(scenario, target, Math.max(1, SECONDS / 2), RATE);
        await probeSettled();
        const probeAfter = probeReading(pids.get(target.key)!);
        // Full collections bunch up after a pause (a server idles while the others are measured): per segment, they show where.
        if (PROBE_DIR !== undefined) log(`segment ${scenario} ${target.key}: ${round(result.requests / Math.max(0.001, result.duration))} req/s, ${probeAfter.full - probeBefore.full} full collection(s), ${round((probeAfter.promoted - probeBefore.promoted) / Math.max(1, result.requests))} B/req promoted`);
        // An idle PostgreSQL backend publishes its counters up to 10 s late: let the segment's arrive.
        if (transactionsBefore !== undefined) await new Promise((resolve) => setTimeout(resolve, 11_000));
        const transactionsAfter = transactionsBefore === undefined ? undefined : storeTransactions(ROOT);
        const commandsAfter = mongoCommands(await commandCounts(stores));
        const switchesAfter = treeContextSwitches(pids.get(target.key)!);
        const waitAfter = treeRunQueueWaitMs(pids.get(target.key)!);
        const loopsAfter = eventLoopCpuByProcess(pids.get(target.key)!);
        const threadsAfter = treeCpuByThreadName(pids.get(target.key)!);
        const total = totals.get(target.key) ?? { requests: 0, seconds: 0, cpuMs: 0, loopMs: 0, storesMs: 0, mongoCommands: 0, transactions: 0, errors: 0, switches: 0, involuntary: 0, loopSwitches: 0, loopWaitMs: 0, loopsByProcess: new Map<number, number>(), threadsByName: new Map<string, number>(), allocated: 0, promoted: 0, full: 0, pauseUs: 0 };
        const segmentCpuMs = processCpuMs(pids.get(target.key)!) - cpuBefore;
        segmentCpu.set(target.key, [...(segmentCpu.get(target.key) ?? []), (segmentCpuMs * 1000) / Math.max(1, result.requests)]);
        totals.set(target.key, {
          requests: total.requests + result.requests,
          seconds: total.seconds + result.duration,
          cpuMs: total.cpuMs + segmentCpuMs,
          loopMs: total.loopMs + eventLoopCpuMs(pids.get(target.key)!) - loopBefore,
          storesMs: total.storesMs + storesCpuMs(ROOT) - storesBefore,
          mongoCommands: total.mongoCommands + commandsAfter - commandsBefore,
          transactions:
            total.transactions === undefined || transactionsBefore === undefined || transactionsAfter === undefined
              ? undefined
              : total.transactions + transactionsAfter - transactionsBefore - 1,
          errors: total.errors + result.errors,
          allocated: total.allocated + probeAfter.allocated - probeBefore.allocated,
          promoted: total.promoted + probeAfter.promoted - probeBefore.promoted,
          full: total.full + probeAfter.full - probeBefore.full,
          pauseUs: total.pauseUs + probeAfter.pauseUs - probeBefore.pauseUs,
          switches: total.switches + switchesAfter.voluntary + switchesAfter.involuntary - switchesBefore.voluntary - switchesBefore.involuntary,
          involuntary: total.involuntary + switchesAfter.involuntary - switchesBefore.involuntary,
          loopWaitMs: total.loopWaitMs + waitAfter.loops - waitBefore.loops,
          loopsByProcess: new Map([...loopsAfter].map(([each, ms]) => [each, (total.loopsByProcess.get(each) ?? 0) + ms - (loopsBefore.get(each) ?? ms)])),
          // A thread started during the segment counts from 0.
          threadsByName: new Map([...new Set([...threadsAfter.keys(), ...total.threadsByName.keys()])].map((name) => [name, (total.threadsByName.get(name) ?? 0) + (threadsAfter.get(name) ?? 0) - (threadsBefore.get(name) ?? 0)])),
          loopSwitches: total.loopSwitches + switchesAfter.loopVoluntary + switchesAfter.loopInvoluntary - switchesBefore.loopVoluntary - switchesBefore.loopInvoluntary,
        });
      }
    }
    for (const [key, total] of totals) if (total.errors > 0) log(`${scenario} on ${key}: ${total.errors} errors`);
    const rps = (key: string) => totals.get(key)!.requests / totals.get(key)!.seconds;
    const cpuPer = (key: string) => (totals.get(key)!.cpuMs * 1000) / Math.max(1, totals.get(key)!.requests);
    const loopPer = (key: string) => (totals.get(key)!.loopMs * 1000) / Math.max(1, totals.get(key)!.requests);
    const storesPer = (key: string) => (totals.get(key)!.storesMs * 1000) / Math.max(1, totals.get(key)!.requests);
    const mongoCommandsPer = (key: string) => round(totals.get(key)!.mongoCommands / Math.max(1, totals.get(key)!.requests), 3) ?? 0;
    const transactionsPer = (key: string) => {
      const { transactions, requests } = totals.get(key)!;
      return transactions === undefined ? '—' : (round(transactions / Math.max(1, requests), 2) ?? 0);
    };
    const switchesPer = (key: string, part: 'switches' | 'involuntary' | 'loopSwitches') => round(totals.get(key)![part] / Math.max(1, totals.get(key)!.requests), 2) ?? 0;
    /** With workers: each process's share of the event loops' CPU, busiest first (how evenly the connections were spread). */
    const loopSplit = (key: string) => {
      const shares = [...totals.get(key)!.loopsByProcess.values()].filter((ms) => ms > 0).sort((a, b) => b - a);
      const sum = shares.reduce((total, ms) => total + ms, 0);
      return shares.length < 2 ? '—' : shares.map((ms) => Math.round((ms / sum) * 100)).join('/');
    };
    /** The threads outside the event loops, µs per request by name, largest first (those under 1 µs/req left out). */
    const otherThreads = (key: string) => {
      const { threadsByName, requests } = totals.get(key)!;
      const perRequest = [...threadsByName].map(([name, ms]) => [name, (ms * 1000) / Math.max(1, requests)] as const).filter(([, us]) => us >= 1);
      return perRequest.length === 0 ? '—' : perRequest.sort((a, b) => b[1] - a[1]).map(([name, us]) => `${name} ${Math.round(us)}`).join(', ');
    };
    const medianCpu = (key: string) => {
      const sorted = [...(segmentCpu.get(key) ?? [0])].sort((a, b) => a - b);
      const middle = Math.floor(sorted.length / 2);
      return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
    };
    const first = children[0]!.name;
    const hasReference = totals.has('reference');
    for (const child of children.filter((candidate) => totals.has(candidate.name))) {
      rows.push([
        scenario,
        child.name,
        round(rps(child.name)) ?? 0,
        round(rps(child.name) / rps(first), 2) ?? 0,
        hasReference ? (round(rps(child.name) / rps('reference'), 2) ?? 0) : '—',
        Math.round(cpuPer(child.name)),
        Math.round(medianCpu(child.name)),
        Math.round(loopPer(child.name)),
        otherThreads(child.name),
        Math.round(storesPer(child.name)),
        mongoCommandsPer(child.name),
        transactionsPer(child.name),
        switchesPer(child.name, 'switches'),
        switchesPer(child.name, 'involuntary'),
        switchesPer(child.name, 'loopSwitches'),
        Math.round((totals.get(child.name)!.loopWaitMs * 1000) / Math.max(1, totals.get(child.name)!.requests)),
        round(totals.get(child.name)!.cpuMs / 1000 / totals.get(child.name)!.seconds, 2) ?? 0,
        loopSplit(child.name),
        round(cpuPer(first) / cpuPer(child.name), 2) ?? 0,
        hasReference ? (round(cpuPer('reference') / cpuPer(child.name), 2) ?? 0) : '—',
        round(medianCpu(first) / medianCpu(child.name), 2) ?? 0,
        hasReference ? (round(medianCpu('reference') / medianCpu(child.name), 2) ?? 0) : '—',
        ...(PROBE_DIR === undefined
          ? []
          : [
              round(totals.get(child.name)!.allocated / 1024 / Math.max(1, totals.get(child.name)!.requests), 1) ?? 0,
              round(totals.get(first)!.allocated / Math.max(1, totals.get(first)!.requests) / (totals.get(child.name)!.allocated / Math.max(1, totals.get(child.name)!.requests)), 2) ?? 0,
              hasReference ? (round(totals.get('reference')!.allocated / Math.max(1, totals.get('reference')!.requests) / (totals.get(child.name)!.allocated / Math.max(1, totals.get(child.name)!.requests)), 2) ?? 0) : '—',
              Math.round(totals.get(child.name)!.promoted / Math.max(1, totals.get(child.name)!.requests)),
              round((totals.get(child.name)!.full * 10_000) / Math.max(1, totals.get(child.name)!.requests), 1) ?? 0,
              Math.round(totals.get(child.name)!.pauseUs / Math.max(1, totals.get(child.name)!.requests)),
            ]),
      ]);
    }
    log(`${scenario} done; load average ${load()}`);
  }
  const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
  const rssAfterLoad = new Map(children.map((child) => [child.name, rssBytes(child.process.pid!)]));
  const threadsAfterLoad = new Map(children.map((child) => [child.name, treeThreads(child.process.pid!)]));
  const idleAfter = flags['idle-after'] === undefined ? undefined : Number(flags['idle-after']);
  /** With --idle-after: each server's CPU time during the idle wait over its wall time (its idle floor; an idle collection included). */
  const idleCpuShare = new Map<string, number>();
  if (idleAfter !== undefined) {
    await readParts('after the scenarios');
    log(`idle for ${idleAfter} s`);
    const cpuBefore = new Map(children.map((child) => [child.name, processCpuMs(child.process.pid!)]));
    const idleStart = performance.now();
    await new Promise((resolve) => setTimeout(resolve, idleAfter * 1000));
    for (const child of children) idleCpuShare.set(child.name, (processCpuMs(child.process.pid!) - cpuBefore.get(child.name)!) / (performance.now() - idleStart));
    await readParts(`after ${idleAfter} s idle`);
  }
  const memory = children.map((child) => [
    child.name,
    processTree(child.process.pid!).length,
    threadsAtStart.get(child.name)!,
    threadsAfterLoad.get(child.name)!,
    mib(rssAtStart.get(child.name)!),
    mib(rssAfterLoad.get(child.name)!),
    ...(idleAfter === undefined ? [] : [mib(rssBytes(child.process.pid!)), round(rssBytes(child.process.pid!) / rssAtStart.get(child.name)!, 2) ?? 0, round(idleCpuShare.get(child.name)! * 100, 2) ?? 0]),
  ]);
  const idleColumns = idleAfter === undefined ? [] : [`RSS MiB after ${idleAfter} s idle`, 'idle after load ÷ idle after start', `CPU % of a core over the ${idleAfter} s idle`];
  process.stdout.write(`${table(['server', 'processes', 'threads after start', 'threads after the scenarios', 'RSS MiB idle after start', 'RSS MiB after the scenarios', ...idleColumns], memory)}\n`);
  for (const [name, parts] of partsOf) process.stdout.write(`\n${name}'s memory in parts:\n${partsTable(parts)}\n`);
  if (SETTLE) process.stdout.write(`\nwarm-up until the JIT settled (${2 * DEFAULT_SETTLE_RULE.span} windows of ${SETTLE_WINDOW} s in a row with V8Worker CPU per request level${PROBE_DIR === undefined ? '' : ' and little new machine code'}):\n${table(['scenario', 'server', 'windows', 'seconds', 'requests', 'V8Worker µs/req, first window', 'lowest', 'last', 'settled'], settleRows)}\n\n`);
  process.stdout.write(`${table(['scenario', 'server', 'req/s', `÷ ${children[0]!.name}`, '÷ reference', 'CPU µs/req (process)', 'median segment CPU µs/req', 'event loop µs/req', 'other threads µs/req by name', 'stores CPU µs/req', 'MongoDB commands/req', 'PostgreSQL transactions/req', 'context switches/req (all threads)', 'of them involuntary', 'context switches/req (event loops)', 'event loops waiting for a core µs/req', 'cores used', 'event-loop CPU % by process', `CPU: ${children[0]!.name} ÷ this`, 'CPU: reference ÷ this', `median CPU: ${children[0]!.name} ÷ this`, 'median CPU: reference ÷ this', ...(PROBE_DIR === undefined ? [] : ['heap allocated KiB/req', `allocated: ${children[0]!.name} ÷ this`, 'allocated: reference ÷ this', 'promoted to the old generation B/req', 'full collections per 10,000 req', 'GC pause µs/req (main thread)'])], rows)}\nload average after: ${load()}\n`);
} finally {
  for (const child of children) await child.stop();
  await stores.close();
  benchServices('down');
}
