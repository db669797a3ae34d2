/**
 * node bench/sign-in-steps.ts [--sign-ins N] [--build name=path/to/main.js ...] [--cpu-prof DIR]
 *
 * Where one complete sign-in's CPU goes, request by request: signs in N times one after the
 * other (after a warm-up), and for each HTTP request of the flow (/auth, the sign-in page, the
 * form POST, the resume, the code exchange) reads from /proc, right before it is sent and right
 * after its answer was read, the CPU time of the Gatehouse process's event loop and of its other
 * threads (schedstat: nanoseconds, not ticks), its write system calls, and the CPU time of the
 * stores (FerretDB, PostgreSQL, Redis). Prints the median of each per request kind and the mean
 * of the sum (a batch written once a second lands on whichever request it meets, so the mean of
 * the whole sign-in counts it and the medians of the requests do not). One sign-in at a time: it
 * shows the work, not the throughput; CPU time holds on a busy machine. Several `--build`s run
 * side by side and take turns sign-in by sign-in (A B B A ...); the last lines give the first
 * build's CPU per sign-in ÷ each build's (medians: a neighbour's burst inflates a few sign-ins,
 * not the median). `--cpu-prof DIR` runs the
 * process with V8's profiler and writes each measured request's time window to DIR/steps.json
 * (the profile's clock), so a profile's samples can be put down to the request they served.
 * Needs `npm run build`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formsOf, UserAgent } from '../test/helpers/browserless.ts';
import { startGatehouseProcess } from './lib/children.ts';
import { authorizationUrl, postToken } from './lib/flows.ts';
import { REDIRECT_URI } from './lib/fixture.ts';
import { seed } from './lib/seed.ts';
import { benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { gatehouseStoreSettings, openStores, resetStores } from './lib/storage.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({ options: { 'sign-ins': { type: 'string' }, build: { type: 'string', multiple: true }, 'cpu-prof': { type: 'string' } } });
const SIGN_INS = Number(flags['sign-ins'] ?? 200);
const ROOT = new URL('..', import.meta.url).pathname;

/** CPU nanoseconds so far of each thread of `pid` (schedstat's first field), by thread id. */
function threadsNs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // ended meanwhile (a PostgreSQL backend)
  }
  for (const tid of tids) {
    try {
      out.set(Number(tid), Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

function storePids(): number[] {
  const dir = `${ROOT}.data/bench-services`;
  const roots = new Set<string>();
  for (const name of ['mongo', 'postgres', 'redis']) {
    try {
      roots.add(readFileSync(`${dir}/${name}.pid`, 'utf8').trim());
    } catch {
      // not running
    }
  }
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]!;
      if (roots.has(entry) || roots.has(ppid)) pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

interface Reading {
  loopNs: number;
  otherNs: number;
  writes: number;
  storesNs: number;
}

function read(pid: number): Reading {
  const threads = threadsNs(pid);
  let otherNs = 0;
  for (const [tid, ns] of threads) if (tid !== pid) otherNs += ns;
  const io = readFileSync(`/proc/${pid}/task/${pid}/io`, 'utf8');
  const writes = Number(/syscw: (\d+)/.exec(io)?.[1] ?? 0);
  let storesNs = 0;
  for (const store of storePids()) for (const ns of threadsNs(store).values()) storesNs += ns;
  return { loopNs: threads.get(pid) ?? 0, otherNs, writes, storesNs };
}

const services = benchServicesUp('gatehouse_steps');
const stores = await openStores(services.mongodbUri, services.redisUrl);
const prefix = 'gatehouse-steps:';
await resetStores(stores, prefix);
const settings = gatehouseStoreSettings(services.mongodbUri, services.redisUrl, prefix);
const fixture = await seed({ settings, users: 8, storageUsers: 0, cheapHashSettings: { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' } });
interface Build {
  readonly name: string;
  readonly url: string;
  readonly child: Awaited<ReturnType<typeof startGatehouseProcess>>;
  /** Per request kind: one reading per measured sign-in. */
  readonly samples: Map<string, Reading[]>;
  /** Whole sign-ins: the sum of the requests' readings. */
  readonly signIns: Reading[];
}

const PROFILE_DIR = flags['cpu-prof'];
const STEPS = ['/auth', 'sign-in page', 'form POST', 'resume /auth/:uid', 'code exchange'] as const;
const builds: Build[] = [];
const specs = (flags.build ?? [`gatehouse=${ROOT}dist/main.js`]).map((spec) => {
  const [name, path] = spec.includes('=') ? [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)] : [spec, spec];
  return { name, path: path.startsWith('/') ? path : `${process.cwd()}/${path}` };
});
if (PROFILE_DIR !== undefined && specs.length > 1) throw new Error('--cpu-prof profiles one build');
for (const spec of specs) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn' };
  const child = await startGatehouseProcess(spec.name, [...(PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`]), spec.path], env, url);
  builds.push({ name: spec.name, url, child, samples: new Map(STEPS.map((step) => [step, []])), signIns: [] });
}
/** With --cpu-prof DIR: each measured request's window in the profile's clock (µs, CLOCK_MONOTONIC), written to DIR/steps.json. */
const windows: Array<{ step: string; from: number; to: number }> = [];
const micros = () => Number(process.hrtime.bigint() / 1000n);
const minus = (after: Reading, before: Reading): Reading => ({ loopNs: after.loopNs - before.loopNs, otherNs: after.otherNs - before.otherNs, writes: after.writes - before.writes, storesNs: after.storesNs - before.storesNs });

async function signInOnce(build: Build, measure: boolean): Promise<void> {
  const { url } = build;
  const pid = build.child.process.pid!;
  const agent = new UserAgent();
  const user = fixture.users[0]!;
  const total: Reading = { loopNs: 0, otherNs: 0, writes: 0, storesNs: 0 };
  let before = read(pid);
  const step = async <T>(name: (typeof STEPS)[number], run: () => Promise<T>): Promise<T> => {
    const from = micros();
    const result = await run();
    if (measure) windows.push({ step: name, from, to: micros() });
    const used = minus(read(pid), before);
    if (measure) build.samples.get(name)!.push(used);
    for (const key of Object.keys(total) as Array<keyof Reading>) total[key] += used[key];
    before = read(pid);
    return result;
  };
  const first = await step('/auth', () => agent.request(authorizationUrl(url, fixture.clients.web)));
  const pageUrl = new URL(first.headers.get('location')!, url).toString();
  const html = await step('sign-in page', async () => (await agent.request(pageUrl)).text());
  const form = formsOf(html).find((candidate) => candidate.action.endsWith('/login'));
  if (form === undefined) throw new Error(`no sign-in form at ${pageUrl}`);
  const posted = await step('form POST', async () => {
    const response = await agent.postForm(new URL(form.action, pageUrl).toString(), { ...form.fields, login: user.username, password: user.password, remember: 'yes' });
    await response.arrayBuffer();
    return response;
  });
  // A build that resumes in the form POST (src/interactions/resume-here.ts) answers it with the redirect to the client.
  let callback = new URL(posted.headers.get('location')!, pageUrl);
  if (!callback.toString().startsWith(REDIRECT_URI)) {
    const resumeUrl = callback.toString();
    const resumed = await step('resume /auth/:uid', async () => {
      const response = await agent.request(resumeUrl);
      await response.arrayBuffer();
      return response;
    });
    callback = new URL(resumed.headers.get('location')!, resumeUrl);
  }
  if (!callback.toString().startsWith(REDIRECT_URI)) throw new Error(`the sign-in did not come back to the client: ${callback}`);
  await step('code exchange', () => postToken(url, fixture.clients.web, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI }));
  if (measure) build.signIns.push(total);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
const ms = (ns: number) => (ns / 1e6).toFixed(2).padStart(7);

try {
  // Alternated sign-in by sign-in (A B B A ...), so that the shared machine's drift hits every build alike.
  for (let index = 0; index < 20; index += 1) for (const build of builds) await signInOnce(build, false);
  for (let index = 0; index < SIGN_INS; index += 1) for (const build of index % 2 === 0 ? builds : [...builds].reverse()) await signInOnce(build, true);
  for (const build of builds) {
    process.stdout.write(`\n${build.name} (${specs.find((spec) => spec.name === build.name)!.path}): ${SIGN_INS} sign-ins, one at a time; CPU ms per request, median (mean)\n`);
    process.stdout.write(`${'request'.padEnd(20)} ${'event loop'.padStart(16)} ${'other threads'.padStart(16)} ${'writes'.padStart(8)} ${'stores'.padStart(16)}\n`);
    const rows: Array<[string, Reading[]]> = [...build.samples, ['a sign-in', build.signIns]];
    for (const [name, readings] of rows) {
      if (readings.length === 0) continue;
      const column = (key: keyof Reading) => readings.map((reading) => reading[key]);
      process.stdout.write(`${name.padEnd(20)} ${ms(median(column('loopNs')))} (${ms(mean(column('loopNs')))}) ${ms(median(column('otherNs')))} (${ms(mean(column('otherNs')))}) ${String(median(column('writes'))).padStart(8)} ${ms(median(column('storesNs')))} (${ms(mean(column('storesNs')))})\n`);
    }
  }
  if (builds.length > 1) {
    const [first] = builds;
    process.stdout.write(`\nper sign-in, ${first!.name} ÷ each build (median event loop, median process: event loop + other threads, mean stores):\n`);
    for (const build of builds) {
      const loop = (b: Build) => median(b.signIns.map((reading) => reading.loopNs));
      const processNs = (b: Build) => median(b.signIns.map((reading) => reading.loopNs + reading.otherNs));
      const storesNs = (b: Build) => mean(b.signIns.map((reading) => reading.storesNs));
      process.stdout.write(`${build.name.padEnd(20)} event loop ${(loop(first!) / loop(build)).toFixed(3)}  process ${(processNs(first!) / processNs(build)).toFixed(3)}  stores ${(storesNs(first!) / storesNs(build)).toFixed(3)}\n`);
    }
  }
} finally {
  for (const build of builds) await build.child.stop();
  if (PROFILE_DIR !== undefined) writeFileSync(`${PROFILE_DIR}/steps.json`, JSON.stringify(windows));
  await resetStores(stores, prefix);
  await stores.close();
  benchServices('down');
}
