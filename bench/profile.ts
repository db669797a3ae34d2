/**
 * node bench/profile.ts --scenario <name> [--seconds N] [--warmup N] [--connections N] [--reference] [--build path/to/main.js] [--workers N] [--perf]
 *
 * CPU profile of the production build under one benchmark scenario: starts the bench's own
 * services, seeds them, runs `node --cpu-prof dist/main.js`, loads it with autocannon (after
 * `--warmup` seconds of the same load, 5 by default, for the token scenarios), stops it
 * and prints where the Gatehouse process spent its time (self time by package and by function)
 * while the load ran: samples from startup and warm-up are left out (V8's profile clock and
 * process.hrtime are both CLOCK_MONOTONIC on Linux). A third reading charges Node's own code
 * (Buffer, streams, querystring, setHeader, crypto) to the package that called it, and lists
 * Gatehouse's functions that way: what each costs with the runtime calls it makes.
 * The .cpuprofile stays in .data/bench/profiles/ (open it in Chrome DevTools). Needs
 * `npm run build` first. Scenarios: cc-rs256, cc-es256, cc-opaque, introspect-opaque,
 * introspect-jwt, userinfo, refresh, sign-in (complete sign-ins on the hosted pages, argon2id at
 * the configured cost, --connections users at a time; also prints the CPU time per sign-in of
 * the event loop, the hashing threads and the rest, from /proc — CPU time, not wall time, so it
 * holds on a busy machine too). `--reference` profiles the library's in-memory reference
 * (bench/reference-server.ts) under the same scenario instead, for a side-by-side reading: both
 * print the event loop's sampled time per request (µs/req) next to each share. `--build` profiles
 * another build (an older `dist` with a `views` link next to it, as for bench/compare.ts).
 * `--workers N` runs the build with GATEHOUSE_WORKERS=N and adds up every worker's event-loop
 * profile (µs/req is then the workers' sampled time together per request).
 * `--perf` records the event loop with Linux `perf` instead (`node --perf-basic-prof`, `perf
 * record -e cpu-clock` of the main thread while the load runs) and prints its real CPU by
 * package and the share of `write` system calls: V8's profiler charges the wall time between
 * samples, so on a loaded machine a `write` that wakes another process and loses the core there
 * reads far larger than its CPU (docs/PERFORMANCE.md, driver14). Needs `perf` and
 * perf_event_paranoid ≤ 2 (or root). With --workers it records the supervisor and every worker
 * (node:cluster passes --perf-basic-prof on): the event loops' shares are the workers' main
 * threads together, the supervisor's main thread is listed as `(supervisor)`. With --reference it records
 * the reference the same way, and both print CPU µs per request by package and by function: the
 * one like-for-like reading of the two on a loaded machine. perf records every thread of the
 * process: a last list gives each thread's CPU by name (`V8Worker`: the garbage collector's
 * parallel and concurrent work; `libuv-worker`: WebCrypto's signatures) with its top native
 * functions.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startGatehouseProcess, startReference } from './lib/children.ts';
import { runOnce } from './lib/load.ts';
import { scenarioRequest, TOKEN_SCENARIOS } from './lib/scenarios.ts';
import { seed } from './lib/seed.ts';
import { loadSignIns } from './lib/sign-in-load.ts';
import { benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { round } from './lib/stats.ts';
import { newestPerfMapEntries, perfShares, startPerfRecord, threadShares } from './lib/perf-shares.ts';
import { processTree } from './lib/process-tree.ts';
import { gatehouseStoreSettings, openStores, resetStores } from './lib/storage.ts';
import { storesCpuMs } from './lib/stores-cpu.ts';
import { usageOnHelp } from './lib/usage.ts';

const SCENARIOS = [...TOKEN_SCENARIOS, 'sign-in'] as const;
type Scenario = (typeof SCENARIOS)[number];

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({ options: { scenario: { type: 'string' }, seconds: { type: 'string' }, connections: { type: 'string' }, reference: { type: 'boolean' }, build: { type: 'string' }, workers: { type: 'string' }, perf: { type: 'boolean' }, warmup: { type: 'string' } } });
/** GATEHOUSE_WORKERS for the profiled build: each worker writes its own profile (node:cluster passes --cpu-prof on); they are added up. */
const WORKERS = Number(flags.workers ?? 1);
const scenario = flags.scenario as Scenario;
if (!SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${SCENARIOS.join(', ')}`);
const REFERENCE = flags.reference === true;
const PERF = flags.perf === true;
if (REFERENCE && scenario === 'sign-in') throw new Error('the reference has no sign-in pages: --reference needs a token scenario');
const SECONDS = Number(flags.seconds ?? 10);
/** Seconds of the same load before the recording starts (token scenarios): the JIT's warm-up is not what a request costs. */
const WARMUP = Number(flags.warmup ?? 5);
const CONNECTIONS = Number(flags.connections ?? 16);
const ROOT = new URL('..', import.meta.url).pathname;
const PROFILES = `${ROOT}.data/bench/profiles`;
const log = (message: string) => process.stderr.write(`profile: ${message}\n`);


const services = benchServicesUp('gatehouse_profile');
const mongodb = new URL(services.mongodbUri);
const stores = await openStores(mongodb.toString(), services.redisUrl);
const prefix = 'gatehouse-profile:';
await resetStores(stores, prefix);
const settings = gatehouseStoreSettings(mongodb.toString(), services.redisUrl, prefix);
const fixture = await seed({ settings, users: scenario === 'sign-in' ? 8 : 2, storageUsers: 0, cheapHashSettings: { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' } });

rmSync(PROFILES, { recursive: true, force: true });
mkdirSync(PROFILES, { recursive: true });
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const env: Record<string, string> = { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn', ...(WORKERS > 1 ? { GATEHOUSE_WORKERS: String(WORKERS) } : {}) };
const CPU_PROFILE = ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`];
let child;
if (REFERENCE) {
  const fixturePath = `${ROOT}.data/bench/profile-fixture.json`;
  writeFileSync(fixturePath, JSON.stringify(fixture), { mode: 0o600 });
  child = await startReference(fixturePath, PERF ? ['--perf-basic-prof'] : CPU_PROFILE);
} else {
  const build = flags.build === undefined ? `${ROOT}dist/main.js` : flags.build.startsWith('/') ? flags.build : `${process.cwd()}/${flags.build}`;
  child = await startGatehouseProcess('gatehouse', [...(PERF ? ['--perf-basic-prof'] : CPU_PROFILE), build], env, url);
}
/** Requests answered while the profile counted (µs per request per function). */
let measuredRequests = 0;

/** CPU milliseconds so far of each thread of a process: the event loop, the hashing threads (nice > 0), the rest. */
function threadCpuMs(pid: number): { eventLoop: number; hashing: number; other: number } {
  const ticks = 100; // USER_HZ on Linux
  const totals = { eventLoop: 0, hashing: 0, other: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime are fields 14 and 15 of stat (11 and 12 after the command); nice is 19 (16 after).
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks;
      if (Number(tid) === pid) totals.eventLoop += ms;
      else if (Number(fields[16]) > 0) totals.hashing += ms;
      else totals.other += ms;
    } catch {
      // the thread ended meanwhile (a hashing worker that idled out)
    }
  }
  return totals;
}

/** When the measured load began, in the profile's clock (µs); samples before it are startup and warm-up. */
let measuredFromMicros = 0;
const PERF_DATA = `${PROFILES}/perf-${scenario}${REFERENCE ? '-reference' : ''}.data`;
/** Ends `perf record` (--perf): it records from the measured load's start. */
let stopPerf: (() => Promise<void>) | undefined;
/** The processes perf records: the one process, or the supervisor and its workers (all ready by now: startGatehouseProcess waits for them). */
let recorded: number[] = [];
const markMeasured = () => {
  measuredFromMicros = Number(process.hrtime.bigint() / 1000n);
  if (!PERF) return;
  recorded = processTree(child.process.pid!);
  stopPerf = startPerfRecord(recorded, PERF_DATA);
};

try {
  if (scenario === 'sign-in') {
    const users = Math.min(CONNECTIONS, 8);
    await loadSignIns(url, fixture.clients.web, fixture.users, 2, users); // warm-up: workers started, code compiled
    markMeasured();
    const before = threadCpuMs(child.process.pid!);
    const storesBefore = storesCpuMs(ROOT);
    const measured = await loadSignIns(url, fixture.clients.web, fixture.users, SECONDS, users);
    const after = threadCpuMs(child.process.pid!);
    const storesMs = storesCpuMs(ROOT) - storesBefore;
    const per = (part: keyof typeof before) => round((after[part] - before[part]) / Math.max(1, measured.signIns), 1);
    log(`sign-in: ${round(measured.perSecond)}/s with ${users} users, p50 ${round(measured.p50Ms)} ms, p99 ${round(measured.p99Ms)} ms, errors ${measured.errors}`);
    log(`CPU per sign-in: event loop ${per('eventLoop')} ms, hashing threads ${per('hashing')} ms, other threads (GC, JIT, libuv) ${per('other')} ms; the stores (FerretDB, PostgreSQL, Redis) ${round(storesMs / Math.max(1, measured.signIns), 1)} ms`);
  } else {
    const request = await scenarioRequest(scenario, { url: child.url, fixture, refreshTokens: CONNECTIONS * 8, reference: REFERENCE });
    // Warm-up: the JIT's compiles (on V8's helper threads and the event loop) are not a request's steady cost.
    if (WARMUP > 0) await runOnce({ key: child.name, url: child.url, spec: request }, WARMUP, CONNECTIONS);
    markMeasured();
    const result = await runOnce({ key: child.name, url: child.url, spec: request }, SECONDS, CONNECTIONS);
    measuredRequests = result.requests.total;
    log(`${scenario}: ${round(result.requests.total / (result.duration || SECONDS))} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`);
  }
} finally {
  await stopPerf?.();
  await child.stop();
  await resetStores(stores, prefix);
  await stores.close();
  benchServices('down');
}

if (PERF) {
  const requests = scenario === 'sign-in' ? undefined : measuredRequests;
  // With workers the supervisor (the first of the tree) serves no request: the event loops are its workers'.
  const loops = WORKERS > 1 ? recorded.slice(1) : recorded.slice(0, 1);
  // Code addresses V8 reused during the run would otherwise be charged to a dead function's name.
  for (const pid of recorded) log(`perf map of ${pid}: ${newestPerfMapEntries(pid)} overlapped entries left out (the newest code at an address kept)`);
  const shares = `${perfShares(PERF_DATA, loops, requests)}\n${threadShares(PERF_DATA, loops, requests, WORKERS > 1 ? recorded[0] : undefined)}`;
  for (const pid of recorded) rmSync(`/tmp/perf-${pid}.map`, { force: true }); // node --perf-basic-prof never removes it
  writeFileSync(`${PROFILES}/summary-${scenario}${REFERENCE ? '-reference' : ''}-perf.txt`, shares);
  process.stdout.write(shares);
  process.exit(0);
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
// One profile per thread (CPU.<date>.<pid>.<thread>.<n>.cpuprofile): the event loop's is thread 0.
const profiles = readdirSync(PROFILES).filter((name) => name.endsWith('.cpuprofile'));
// With workers: every worker's event loop (the supervisor's, named by its pid, is left out); else the one process's.
const files = WORKERS > 1 ? profiles.filter((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name) && !name.includes(`.${child.process.pid}.0.`)) : [profiles.find((name) => name.includes(`.${child.process.pid}.0.`)) ?? profiles[0]].filter((name) => name !== undefined);
if (files.length === 0) throw new Error('no .cpuprofile written');
const file = files.join(', ');
const self = new Map<string, number>();
/** Every profile's nodes, keyed `<profile>:<node id>` (several workers' profiles are added up). */
const nodes: Array<ProfileNode & { key: string }> = [];
for (const [index, name] of files.entries()) {
  const profile = JSON.parse(readFileSync(`${PROFILES}/${name}`, 'utf8')) as { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] };
  let sampledAt = profile.startTime;
  profile.samples.forEach((id, sample) => {
    const delta = profile.timeDeltas[sample] ?? 0;
    sampledAt += delta;
    if (sampledAt >= measuredFromMicros) self.set(`${index}:${id}`, (self.get(`${index}:${id}`) ?? 0) + delta);
  });
  for (const node of profile.nodes) nodes.push({ ...node, key: `${index}:${node.id}` });
}
const total = [...self.values()].reduce((sum, micros) => sum + micros, 0);
const byPackage = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const node of nodes) {
  const micros = self.get(node.key) ?? 0;
  if (micros === 0) continue;
  const { url: source, functionName, lineNumber } = node.callFrame;
  const pkg = source.includes('node_modules/')
    ? source.split('node_modules/').pop()!.split('/').slice(0, source.split('node_modules/').pop()!.startsWith('@') ? 2 : 1).join('/')
    : source.includes('/dist/') ? 'gatehouse' : source === '' ? `(${functionName || 'native'})` : source.startsWith('node:') ? 'node core' : source;
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
  const name = `${functionName || '(anonymous)'} ${source.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
}
/**
 * The same samples with Node's own code (Buffer, querystring, streams, setHeader, crypto: frames
 * outside any package) charged to the nearest caller that is in one — what a package's work
 * costs with the runtime calls it makes — and Gatehouse's functions that way. Idle, GC and the
 * profiler's own entries stay as they are.
 */
const parentOf = new Map<string, ProfileNode & { key: string }>();
const byKey = new Map<string, ProfileNode & { key: string }>();
for (const node of nodes) {
  byKey.set(node.key, node);
  const prefix = node.key.slice(0, node.key.indexOf(':') + 1);
  for (const child of node.children ?? []) parentOf.set(`${prefix}${child}`, node);
}
const packageOf = (source: string): string | undefined => {
  if (source.includes('node_modules/')) {
    const rest = source.split('node_modules/').pop()!;
    return rest.split('/').slice(0, rest.startsWith('@') ? 2 : 1).join('/');
  }
  return source.includes('/dist/') ? 'gatehouse' : undefined;
};
const byOwner = new Map<string, number>();
const ownFunctions = new Map<string, number>();
for (const node of nodes) {
  const micros = self.get(node.key) ?? 0;
  if (micros === 0) continue;
  const { functionName, url } = node.callFrame;
  if (url === '' && functionName.startsWith('(') && functionName !== '(anonymous)') {
    byOwner.set(functionName, (byOwner.get(functionName) ?? 0) + micros);
    continue;
  }
  let owner: (ProfileNode & { key: string }) | undefined = node;
  while (owner !== undefined && packageOf(owner.callFrame.url) === undefined) owner = parentOf.get(owner.key);
  const pkg = owner === undefined ? '(Node, no package above)' : packageOf(owner.callFrame.url)!;
  byOwner.set(pkg, (byOwner.get(pkg) ?? 0) + micros);
  if (owner !== undefined && pkg === 'gatehouse') {
    const name = `${owner.callFrame.functionName || '(anonymous)'} ${owner.callFrame.url.split('/dist/').pop()}:${owner.callFrame.lineNumber + 1}`;
    ownFunctions.set(name, (ownFunctions.get(name) ?? 0) + micros);
  }
}
const perRequest = (micros: number) => (measuredRequests > 0 ? `${(micros / measuredRequests).toFixed(1).padStart(6)} µs/req  ` : '');
const top = (map: Map<string, number>, count: number) =>
  [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, micros]) => `${((micros / total) * 100).toFixed(1).padStart(5)}%  ${perRequest(micros)}${name}`).join('\n');
const owned = `by package, Node's own code charged to its caller:\n${top(byOwner, 15)}\n\nGatehouse's functions with the Node code they call:\n${top(ownFunctions, 25)}\n`;
writeFileSync(`${PROFILES}/summary-${scenario}${REFERENCE ? '-reference' : ''}.txt`, `${top(byPackage, 25)}\n\n${top(byFunction, 40)}\n\n${owned}`);
process.stdout.write(`self time by package (${file}):\n${top(byPackage, 25)}\n\nself time by function:\n${top(byFunction, 40)}\n\n${owned}`);
