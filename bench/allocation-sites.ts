/**
 * node bench/allocation-sites.ts [--build name=path/to/main.js ...] [--scenario cc-rs256|introspect-jwt|userinfo ...] [--warmup N] [--seconds N] [--connections N] [--top N] [--no-reference]
 *
 * Where each server's garbage per request is made: starts every build (`npm run build` first)
 * and the library's in-memory reference on the bench's services, each with V8's sampling heap
 * profiler loaded (bench/lib/allocation-sampler.ts), drives each scenario on each for `--warmup`
 * seconds (default 20), then samples every allocation for `--seconds` (default 10) of the same
 * load — objects the collections freed included — and prints bytes allocated per request by
 * package and by function (the allocating frame: the innermost JavaScript function), side by
 * side. Bytes, unlike CPU time, hold on a busy machine: what a change removes from a request's
 * garbage reads the same on a loaded and a quiet machine. Sampled (one sample per 4 KiB on
 * average, scaled by V8): functions under ≈ 100 B/req are noise. Profiles stay in
 * .data/bench/allocation-sites/ (`<pid>.heapprofile`, Chrome DevTools opens them). Never asserts.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startGatehouseProcess, startReference, type Child } from './lib/children.ts';
import { runOnce } from './lib/load.ts';
import { scenarioRequest, TOKEN_SCENARIOS, type TokenScenario } from './lib/scenarios.ts';
import { seed } from './lib/seed.ts';
import { benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { gatehouseStoreSettings, openStores, resetStores } from './lib/storage.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({
  options: {
    build: { type: 'string', multiple: true },
    scenario: { type: 'string', multiple: true },
    warmup: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string' },
    top: { type: 'string' },
    'no-reference': { type: 'boolean' },
  },
});
const ROOT = new URL('..', import.meta.url).pathname;
const DIR = `${ROOT}.data/bench/allocation-sites`;
const SAMPLER = new URL('./lib/allocation-sampler.ts', import.meta.url).pathname;
const WARMUP = Number(flags.warmup ?? 20);
const SECONDS = Number(flags.seconds ?? 10);
const CONNECTIONS = Number(flags.connections ?? 16);
const TOP = Number(flags.top ?? 30);
const scenarios = (flags.scenario ?? ['cc-rs256']) as TokenScenario[];
for (const scenario of scenarios) if (!TOKEN_SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${TOKEN_SCENARIOS.join(', ')}`);
const builds = (flags.build ?? ['gatehouse=dist/main.js']).map((entry) => {
  const at = entry.indexOf('=');
  const path = entry.slice(at + 1);
  return { name: entry.slice(0, at), path: path.startsWith('/') ? path : `${ROOT}${path}` };
});
const log = (message: string) => process.stderr.write(`allocation-sites: ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** The package (or dist/ folder, or Node) a script belongs to. */
function packageOf(url: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match !== null) return match[1]!;
  if (url.includes('/dist/')) return 'gatehouse';
  if (url.startsWith('node:')) return '(Node)';
  if (url.includes('/bench/')) return 'bench';
  return url === '' ? '(V8: no script)' : 'other';
}

function functionOf(frame: ProfileNode['callFrame']): string {
  const { url } = frame;
  const short = url.includes('/node_modules/') ? url.slice(url.lastIndexOf('/node_modules/') + 14) : url.includes('/dist/') ? url.slice(url.lastIndexOf('/dist/') + 6) : url;
  return `${frame.functionName || '(anonymous)'} ${short}${url === '' ? '' : `:${frame.lineNumber + 1}`}`;
}

/** Bytes by package and by function (the allocating frame; Node's own frames keep their names, the package reading charges them to their script). */
function tally(root: ProfileNode): { byPackage: Map<string, number>; byFunction: Map<string, number>; ours: Map<string, number>; total: number } {
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  /** Gatehouse's functions (dist/), each with the Node and V8 code it calls. */
  const ours = new Map<string, number>();
  let total = 0;
  // caller: the package of the nearest frame outside Node and V8; callerFunction: that frame.
  const walk = (node: ProfileNode, caller: string, callerFunction: string) => {
    const own = packageOf(node.callFrame.url);
    const borrowed = own === '(Node)' || own === '(V8: no script)';
    // Node's own code (Buffer, streams, querystring) and V8's builtins (Object.entries, Map, Set,
    // Array.prototype.filter: no script) are charged to the package and the function that called them.
    const charged = borrowed && caller !== '' ? caller : own;
    if (node.selfSize > 0) {
      total += node.selfSize;
      byPackage.set(charged, (byPackage.get(charged) ?? 0) + node.selfSize);
      const name = borrowed && callerFunction !== '' ? `${callerFunction} → ${functionOf(node.callFrame)}` : functionOf(node.callFrame);
      byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
      if (charged === 'gatehouse') {
        const mine = borrowed ? callerFunction : functionOf(node.callFrame);
        ours.set(mine, (ours.get(mine) ?? 0) + node.selfSize);
      }
    }
    for (const child of node.children) walk(child, borrowed ? caller : own, borrowed ? callerFunction : functionOf(node.callFrame));
  };
  walk(root, '', '');
  return { byPackage, byFunction, ours, total };
}

rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
const { mongodbUri, redisUrl } = benchServicesUp('gatehouse_allocation_sites');
const stores = await openStores(mongodbUri, redisUrl);
const prefix = 'gatehouse-allocation-sites:';
await resetStores(stores, prefix);
const settings = gatehouseStoreSettings(mongodbUri, redisUrl, prefix);
log('seeding');
const fixture = await seed({ settings, users: 2, storageUsers: 0, cheapHashSettings: {} });
const fixturePath = `${DIR}/fixture.json`;
writeFileSync(fixturePath, JSON.stringify(fixture), { mode: 0o600 });
process.env.BENCH_ALLOCATION_SITES_DIR = DIR;
const children: Child[] = [];
try {
  for (const build of builds) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn', BENCH_ALLOCATION_SITES_DIR: DIR };
    children.push(await startGatehouseProcess(build.name, [`--import=${SAMPLER}`, build.path], env, url));
  }
  if (flags['no-reference'] !== true) children.push(await startReference(fixturePath, [`--import=${SAMPLER}`]));
  for (const scenario of scenarios) {
    const results: Array<{ name: string; requests: number } & ReturnType<typeof tally>> = [];
    for (const child of children) {
      const pid = child.process.pid!;
      const spec = await scenarioRequest(scenario, { url: child.url, fixture, refreshTokens: CONNECTIONS * 8, reference: child.name === 'reference' });
      await runOnce({ key: child.name, url: child.url, spec }, WARMUP, CONNECTIONS);
      rmSync(`${DIR}/${pid}.heapprofile`, { force: true });
      writeFileSync(`${DIR}/${pid}.start`, '');
      await sleep(200);
      const result = await runOnce({ key: child.name, url: child.url, spec }, SECONDS, CONNECTIONS);
      writeFileSync(`${DIR}/${pid}.stop`, '');
      for (let waited = 0; !existsSync(`${DIR}/${pid}.heapprofile`); waited += 200) {
        if (waited > 120_000) throw new Error(`no allocation profile from ${child.name}`);
        await sleep(200);
      }
      const profile = JSON.parse(readFileSync(`${DIR}/${pid}.heapprofile`, 'utf8')) as { head: ProfileNode };
      // The sampler runs a little longer than the load (its start and stop are polled): a few requests' worth, charged to these.
      results.push({ name: child.name, requests: result.requests.total, ...tally(profile.head) });
      log(`${scenario} ${child.name}: ${Math.round(result.requests.total / result.duration)} req/s, ${(results.at(-1)!.total / 1024 / result.requests.total).toFixed(1)} KiB/req sampled`);
    }
    const perReq = (result: (typeof results)[number], bytes: number | undefined) => (bytes === undefined ? '—' : String(Math.round(bytes / Math.max(1, result.requests))));
    const table = (title: string, key: 'byPackage' | 'byFunction', limit: number) => {
      const names = [...new Set(results.flatMap((result) => [...result[key].keys()]))].sort((a, b) => (results[0]![key].get(b) ?? 0) - (results[0]![key].get(a) ?? 0)).slice(0, limit);
      process.stdout.write(`\n${scenario}: ${title} (B/req)\n${results.map((result) => result.name.padStart(12)).join('')}  \n`);
      for (const name of names) process.stdout.write(`${results.map((result) => perReq(result, result[key].get(name)).padStart(12)).join('')}  ${name}\n`);
    };
    process.stdout.write(`\n${scenario}: allocated per request (sampled, KiB)\n${results.map((result) => `${result.name} ${(result.total / 1024 / Math.max(1, result.requests)).toFixed(1)}`).join('  ')}\n`);
    table('by package', 'byPackage', 25);
    table('by allocating function (the first build\'s largest first; Node\'s and V8\'s own code after the function that called it)', 'byFunction', TOP);
    for (const result of results.filter((each) => each.ours.size > 0)) {
      process.stdout.write(`\n${scenario}: ${result.name}: Gatehouse's own functions (with the Node and V8 code they call), B/req\n`);
      for (const [name, bytes] of [...result.ours].sort((a, b) => b[1] - a[1]).slice(0, TOP)) process.stdout.write(`${perReq(result, bytes).padStart(12)}  ${name}\n`);
    }
    if (results.length > 1) {
      const last = results.at(-1)!;
      const names = [...new Set(results.flatMap((result) => [...result.byFunction.keys()]))].sort((a, b) => (last.byFunction.get(b) ?? 0) - (last.byFunction.get(a) ?? 0)).slice(0, Math.min(TOP, 20));
      process.stdout.write(`\n${scenario}: by allocating function (${last.name}'s largest first)\n`);
      for (const name of names) process.stdout.write(`${results.map((result) => perReq(result, result.byFunction.get(name)).padStart(12)).join('')}  ${name}\n`);
    }
  }
} finally {
  for (const child of children) await child.stop();
  await stores.close();
  benchServices('down');
}
