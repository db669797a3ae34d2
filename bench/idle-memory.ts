/**
 * node bench/idle-memory.ts [--build name=path/to/main.js ...] [--env NAME=value ...]
 *                           [--rounds N] [--sign-ins N] [--load-seconds S] [--idle-wait S] [--modules]
 *
 * Idle memory and start-up of the production build (benchmark target (g)): for each build,
 * spawn → /readyz 200 (start to ready), RSS and the main thread's process.memoryUsage() 2 s
 * later, the first sign-in, RSS after --sign-ins more (argon2id at the OWASP defaults), with
 * --load-seconds S sign-ins/s and latency of 8 users in a closed loop (and RSS after), and
 * with --idle-wait S, RSS after S seconds without sign-ins and two sign-ins at a person's pace
 * (the form is shown, 1 s passes, then the password is posted; timed from the POST to the
 * redirect with the code): the first finds no hash worker left if idle workers exit. Builds are started in A B B A order
 * (--rounds pairs) on the bench's own services, one at a time. --modules prints what each big
 * dependency costs alone in a fresh process. Needs `npm run build` first.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { rssBytes, startGatehouseProcess } from './lib/children.ts';
import { formsOf, UserAgent } from '../test/helpers/browserless.ts';
import { REDIRECT_URI } from './lib/fixture.ts';
import { authorizationUrl, completeSignIn } from './lib/flows.ts';
import { seed } from './lib/seed.ts';
import { benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { loadSignIns } from './lib/sign-in-load.ts';
import { median } from './lib/stats.ts';
import { gatehouseStoreSettings, openStores, resetStores } from './lib/storage.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({
  options: {
    build: { type: 'string', multiple: true },
    env: { type: 'string', multiple: true },
    rounds: { type: 'string' },
    'sign-ins': { type: 'string' },
    'idle-wait': { type: 'string' },
    'load-seconds': { type: 'string' },
    modules: { type: 'boolean' },
    'node-option': { type: 'string', multiple: true },
  },
});
const ROOT = new URL('..', import.meta.url).pathname;
const log = (message: string) => process.stderr.write(`idle-memory: ${message}\n`);
const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pairs = (list: readonly string[] | undefined) => (list ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const);

const MODULES = ['mongoose', 'ioredis', 'koa', 'oidc-provider', 'ejs', 'prom-client', 'pino', 'zod', 'jose', '@node-rs/argon2', 'rate-limiter-flexible'];

/** RSS and heap a module adds to an empty process, after two full GCs on both sides. */
function moduleCost(specifier: string): string {
  const script = `const m = () => { gc(); gc(); return process.memoryUsage(); };
    const before = m();
    const loaded = await import(${JSON.stringify(specifier)});
    if (${JSON.stringify(specifier)} === 'prom-client') loaded.default.collectDefaultMetrics();
    await new Promise((r) => setTimeout(r, 200));
    const after = m();
    console.log(JSON.stringify({ rss: after.rss - before.rss, heapUsed: after.heapUsed - before.heapUsed, external: after.external - before.external }));`;
  const run = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  const cost = JSON.parse(run.stdout) as { rss: number; heapUsed: number; external: number };
  return `${specifier.padEnd(22)} RSS +${mib(cost.rss)} MiB, heap used +${mib(cost.heapUsed)} MiB, external +${mib(cost.external)} MiB`;
}

if (flags.modules) {
  for (const specifier of MODULES) log(moduleCost(specifier));
  process.exit(0);
}


function threads(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('Threads:'));
  return Number(line?.replace(/\D+/g, '') ?? 0);
}

/**
 * Loaded into the measured process with --import: on SIGUSR2 it writes the main thread's
 * process.memoryUsage() to a file. A few lines of code; nothing runs until the signal.
 */
function probe(file: string): string {
  const source = `import { writeFileSync } from 'node:fs';
    import { getHeapSpaceStatistics } from 'node:v8';
    process.on('SIGUSR2', () => {
      const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, [s.physical_space_size, s.space_used_size]]));
      writeFileSync(${JSON.stringify(file)}, JSON.stringify({ ...process.memoryUsage(), spaces }));
    });`;
  return `--import=data:text/javascript,${encodeURIComponent(source)}`;
}

type Usage = NodeJS.MemoryUsage & { spaces: Record<string, [number, number]> };

/** Per V8 space of the main thread: "resident MiB/used MiB". */
function physical(usage: Usage): Record<string, string> {
  return Object.fromEntries(Object.entries(usage.spaces).filter(([, [resident]]) => resident > 0).map(([name, [resident, used]]) => [name, `${mib(resident)}/${mib(used)}`]));
}

async function memoryUsage(pid: number, file: string): Promise<Usage> {
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let attempt = 0; attempt < 100; attempt += 1) {
    await sleep(20);
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Usage;
    } catch {
      // not written yet
    }
  }
  throw new Error('the memory probe did not answer');
}

const builds = pairs(flags.build);
if (builds.length === 0) builds.push(['current', `${ROOT}dist/main.js`]);
const extraEnv = Object.fromEntries(pairs(flags.env));
const rounds = Number(flags.rounds ?? 1);
const signIns = Number(flags['sign-ins'] ?? 20);
const idleWait = flags['idle-wait'] === undefined ? undefined : Number(flags['idle-wait']);
const loadSeconds = flags['load-seconds'] === undefined ? undefined : Number(flags['load-seconds']);

const services = benchServicesUp('gatehouse_idle_memory');
const mongodb = new URL(services.mongodbUri);
const stores = await openStores(mongodb.toString(), services.redisUrl);
const prefix = 'gatehouse-idle-memory:';
await resetStores(stores, prefix);
const settings = gatehouseStoreSettings(mongodb.toString(), services.redisUrl, prefix);
log('seeding (users hashed at the OWASP defaults)');
const fixture = await seed({ settings, users: 4, storageUsers: 0, cheapHashSettings: {} });

/** Shows the sign-in form, waits `thinkMs` as a person typing would, posts it; ms from the POST to the code. */
async function paced(base: string, user: { username: string; password: string }, thinkMs: number): Promise<number> {
  const agent = new UserAgent();
  let url = authorizationUrl(base, fixture.clients.web);
  let response = await agent.request(url);
  while (response.status === 302 || response.status === 303) {
    url = new URL(response.headers.get('location')!, url).toString();
    response = await agent.request(url);
  }
  const form = formsOf(await response.text()).find((candidate) => candidate.action.endsWith('/login'));
  if (form === undefined) throw new Error(`no sign-in form at ${url}`);
  await sleep(thinkMs);
  const started = performance.now();
  response = await agent.postForm(new URL(form.action, url).toString(), { ...form.fields, login: user.username, password: user.password });
  while (response.status === 302 || response.status === 303) {
    url = new URL(response.headers.get('location')!, url).toString();
    if (url.startsWith(REDIRECT_URI)) return performance.now() - started;
    response = await agent.request(url);
  }
  throw new Error(`the sign-in did not reach the client: ${response.status}`);
}

interface Sample {
  readonly build: string;
  readonly startToReadyMs: number;
  readonly idle: { readonly rssMiB: number; readonly threads: number; readonly heapTotalMiB: number; readonly heapUsedMiB: number; readonly externalMiB: number; readonly arrayBuffersMiB: number; readonly spaces: Record<string, string> };
  readonly firstSignInMs: number;
  readonly signInMedianMs: number;
  readonly afterSignInsRssMiB: number;
  readonly afterSignInsThreads: number;
  readonly load?: { readonly perSecond: number; readonly p50Ms: number; readonly p99Ms: number; readonly errors: number; readonly rssMiB: number };
  readonly afterIdle?: { readonly rssMiB: number; readonly threads: number; readonly heapTotalMiB: number; readonly spaces: Record<string, string>; readonly signInMs: number; readonly nextSignInMs: number };
}

async function measure(build: string, entry: string): Promise<Sample> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const probeFile = `${ROOT}.data/bench/idle-memory-probe.json`;
  execFileSync('mkdir', ['-p', `${ROOT}.data/bench`]);
  const env = { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn', ...extraEnv };
  const child = await startGatehouseProcess(build, [...(flags['node-option'] ?? []), probe(probeFile), entry], env, url);
  const pid = child.process.pid!;
  try {
    await sleep(2000);
    const idleRss = rssBytes(pid);
    const idleThreads = threads(pid);
    const usage = await memoryUsage(pid, probeFile);
    const timed = async (index: number) => {
      const started = performance.now();
      await completeSignIn(url, fixture.clients.web, fixture.users[index % fixture.users.length]!);
      return performance.now() - started;
    };
    const firstSignInMs = await timed(0);
    const times: number[] = [];
    for (let index = 1; index <= signIns; index += 1) times.push(await timed(index));
    await sleep(500);
    let sample: Sample = {
      build,
      startToReadyMs: Math.round(child.startToReadyMs),
      idle: {
        rssMiB: mib(idleRss),
        threads: idleThreads,
        heapTotalMiB: mib(usage.heapTotal),
        heapUsedMiB: mib(usage.heapUsed),
        externalMiB: mib(usage.external),
        arrayBuffersMiB: mib(usage.arrayBuffers),
        spaces: physical(usage),
      },
      firstSignInMs: Math.round(firstSignInMs),
      signInMedianMs: Math.round(median(times)),
      afterSignInsRssMiB: mib(rssBytes(pid)),
      afterSignInsThreads: threads(pid),
    };
    if (loadSeconds !== undefined) {
      const load = await loadSignIns(url, fixture.clients.web, fixture.users, loadSeconds, 8);
      sample = { ...sample, load: { perSecond: load.perSecond, p50Ms: load.p50Ms, p99Ms: load.p99Ms, errors: load.errors, rssMiB: mib(rssBytes(pid)) } };
    }
    if (idleWait === undefined) return sample;
    await sleep(idleWait * 1000);
    const rssMiB = mib(rssBytes(pid));
    const afterIdleUsage = await memoryUsage(pid, probeFile);
    const idleThreadsAfter = threads(pid);
    const signInMs = Math.round(await paced(url, fixture.users[0]!, 1000));
    const nextSignInMs = Math.round(await paced(url, fixture.users[1]!, 1000));
    return { ...sample, afterIdle: { rssMiB, threads: idleThreadsAfter, heapTotalMiB: mib(afterIdleUsage.heapTotal), spaces: physical(afterIdleUsage), signInMs, nextSignInMs } };
  } finally {
    await child.stop();
  }
}

const order = Array.from({ length: rounds }, () => [...builds, ...[...builds].reverse()]).flat();
const samples: Sample[] = [];
try {
  for (const [build, entry] of order) {
    const sample = await measure(build, entry);
    log(JSON.stringify(sample));
    samples.push(sample);
  }
} finally {
  await resetStores(stores, prefix);
  await stores.close();
  benchServices('down');
}

for (const [build] of builds) {
  const mine = samples.filter((sample) => sample.build === build);
  const mid = (pick: (sample: Sample) => number | undefined) => {
    const values = mine.map(pick).filter((entry): entry is number => entry !== undefined);
    return values.length === 0 ? '-' : String(Math.round(median(values) * 10) / 10);
  };
  process.stdout.write(
    `${build} (${mine.length} starts, medians): start→ready ${mid((s) => s.startToReadyMs)} ms; idle RSS ${mid((s) => s.idle.rssMiB)} MiB ` +
      `(threads ${mid((s) => s.idle.threads)}, heapTotal ${mid((s) => s.idle.heapTotalMiB)}, heapUsed ${mid((s) => s.idle.heapUsedMiB)}, ` +
      `external ${mid((s) => s.idle.externalMiB)}, arrayBuffers ${mid((s) => s.idle.arrayBuffersMiB)} MiB); first sign-in ${mid((s) => s.firstSignInMs)} ms, ` +
      `then median ${mid((s) => s.signInMedianMs)} ms; RSS after ${signIns + 1} sign-ins ${mid((s) => s.afterSignInsRssMiB)} MiB (threads ${mid((s) => s.afterSignInsThreads)})` +
      (loadSeconds === undefined ? '' : `; 8 users ${loadSeconds} s: ${mid((s) => s.load?.perSecond)} sign-ins/s, p50 ${mid((s) => s.load?.p50Ms)} ms, p99 ${mid((s) => s.load?.p99Ms)} ms, errors ${mid((s) => s.load?.errors)}, RSS after ${mid((s) => s.load?.rssMiB)} MiB`) +
      (idleWait === undefined ? '' : `; after ${idleWait} s idle: RSS ${mid((s) => s.afterIdle?.rssMiB)} MiB (threads ${mid((s) => s.afterIdle?.threads)}); paced sign-in POST→code ${mid((s) => s.afterIdle?.signInMs)} ms, next ${mid((s) => s.afterIdle?.nextSignInMs)} ms`) +
      '\n',
  );
}
