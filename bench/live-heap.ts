/**
 * node bench/live-heap.ts [--build name=path/to/main.js ...] [--scenario cc-rs256|introspect-jwt ...] [--seconds N] [--connections N] [--top N] [--no-reference]
 *
 * What each server's live heap holds after a token load: starts every build (`npm run build`
 * first) and the library's in-memory reference (bench/reference-server.ts) on the bench's
 * services, drives each scenario on each for `--seconds` (default 15) at `--connections` (16),
 * then takes a V8 heap snapshot of each (a snapshot is taken after a full collection: live
 * objects only) and prints, side by side, the snapshot's self sizes by kind (code, strings,
 * array-buffer backing stores, objects, ...), the source bytes of the modules each process
 * loaded (by package, from a module-load hook: `bench/lib/module-log.ts`), which modules were
 * loaded after the start, and the largest single objects with the path that keeps each.
 * Snapshots stay in .data/bench/live-heap/ for Chrome DevTools. Never asserts anything.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
    seconds: { type: 'string' },
    connections: { type: 'string' },
    top: { type: 'string' },
    'no-reference': { type: 'boolean' },
  },
});
const ROOT = new URL('..', import.meta.url).pathname;
const DIR = `${ROOT}.data/bench/live-heap`;
const MODULE_LOG = new URL('./lib/module-log.ts', import.meta.url).pathname;
const SECONDS = Number(flags.seconds ?? 15);
const CONNECTIONS = Number(flags.connections ?? 16);
const TOP = Number(flags.top ?? 12);
const scenarios = (flags.scenario ?? ['cc-rs256']) as TokenScenario[];
for (const scenario of scenarios) if (!TOKEN_SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${TOKEN_SCENARIOS.join(', ')}`);
const builds = (flags.build ?? ['gatehouse=dist/main.js']).map((entry) => {
  const at = entry.indexOf('=');
  const path = entry.slice(at + 1);
  return { name: entry.slice(0, at), path: path.startsWith('/') ? path : `${ROOT}${path}` };
});
const log = (message: string) => process.stderr.write(`live-heap: ${message}\n`);
const mib = (bytes: number) => (bytes / 1048576).toFixed(2);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Self sizes by kind, and the largest nodes with the chain of retainers that keeps each. */
function analyse(file: string): { kinds: Map<string, number>; total: number; largest: string[] } {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const meta = heap.snapshot.meta;
  const width = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const types = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const at = (field: string) => meta.node_fields.indexOf(field);
  const [typeAt, nameAt, sizeAt, edgesAt] = [at('type'), at('name'), at('self_size'), at('edge_count')];
  const [edgeTypeAt, edgeNameAt, edgeToAt] = ['type', 'name_or_index', 'to_node'].map((field) => meta.edge_fields.indexOf(field)) as [number, number, number];
  const count = heap.nodes.length / width;
  const kinds = new Map<string, number>();
  const retainer = new Int32Array(count).fill(-1);
  const retainerEdge = new Array<string>(count);
  let total = 0;
  let edge = 0;
  for (let node = 0; node < count; node++) {
    const base = node * width;
    const type = types[heap.nodes[base + typeAt]!]!;
    const name = heap.strings[heap.nodes[base + nameAt]!]!;
    const size = heap.nodes[base + sizeAt]!;
    total += size;
    const kind = type === 'native' || type === 'hidden' || type === 'code' || type === 'object' && name.startsWith('system /') ? `${type}:${name.replace(/ \/ .*$/, '').slice(0, 40)}` : type.includes('string') ? 'strings' : type;
    kinds.set(kind, (kinds.get(kind) ?? 0) + size);
    for (let e = 0; e < heap.nodes[base + edgesAt]!; e++, edge += edgeWidth) {
      const to = heap.edges[edge + edgeToAt]! / width;
      const edgeType = edgeTypes[heap.edges[edge + edgeTypeAt]!]!;
      if (edgeType === 'weak' || retainer[to] !== -1) continue;
      retainer[to] = node;
      const nameOrIndex = heap.edges[edge + edgeNameAt]!;
      retainerEdge[to] = edgeType === 'element' || edgeType === 'hidden' ? `[${nameOrIndex}]` : `.${heap.strings[nameOrIndex]}`;
    }
  }
  const describe = (node: number) => {
    const base = node * width;
    return `${types[heap.nodes[base + typeAt]!]}:${heap.strings[heap.nodes[base + nameAt]!]!.slice(0, 50).replace(/\s+/g, ' ')}`;
  };
  const order = Array.from({ length: count }, (_, node) => node).sort((a, b) => heap.nodes[b * width + sizeAt]! - heap.nodes[a * width + sizeAt]!);
  const largest = order.slice(0, TOP).map((node) => {
    const chain: string[] = [];
    for (let n = node, hops = 0; retainer[n] !== -1 && hops < 8; n = retainer[n]!, hops++) chain.push(`${retainerEdge[n]} ← ${describe(retainer[n]!)}`);
    return `${mib(heap.nodes[node * width + sizeAt]!).padStart(7)} MiB ${describe(node)}  ${chain.join('  ')}`;
  });
  return { kinds, total, largest };
}

/** Source bytes by package from the module log: at the start (before `since` s) and after. */
function modules(pid: number, since: number): { byPackage: Map<string, [number, number]>; later: string[] } {
  const byPackage = new Map<string, [number, number]>();
  const later: string[] = [];
  let text = '';
  try {
    text = readFileSync(`${DIR}/modules-${pid}.txt`, 'utf8');
  } catch {
    return { byPackage, later };
  }
  for (const line of text.trim().split('\n')) {
    const [when, bytes, url] = line.split('\t') as [string, string, string];
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    const key = match?.[1] ?? (url.startsWith('node:') ? 'node:' : url.includes('/dist/') ? `dist/${/\/dist\/([^/]+)/.exec(url)?.[1] ?? ''}` : url.includes('/bench/') ? 'bench' : 'other');
    const entry = byPackage.get(key) ?? [0, 0];
    entry[0] += Number(bytes);
    entry[1] += 1;
    byPackage.set(key, entry);
    if (Number(when) > since) later.push(`${when}s ${bytes} ${url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}`);
  }
  return { byPackage, later };
}

async function snapshot(pid: number, name: string): Promise<string> {
  const before = new Set(readdirSync(DIR));
  process.kill(pid, 'SIGUSR2');
  for (let waited = 0; waited < 180_000; waited += 500) {
    await sleep(500);
    const fresh = readdirSync(DIR).filter((file) => !before.has(file) && file.endsWith('.heapsnapshot'));
    if (fresh.length > 0) {
      const file = `${DIR}/${fresh[0]}`;
      let size = -1;
      while (statSync(file).size !== size || size === 0) {
        size = statSync(file).size;
        await sleep(1500);
      }
      log(`${name}: ${file} (${mib(size)} MiB)`);
      return file;
    }
  }
  throw new Error(`no heap snapshot from ${name}`);
}

rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
const { mongodbUri, redisUrl } = benchServicesUp('gatehouse_live_heap');
const stores = await openStores(mongodbUri, redisUrl);
const prefix = 'gatehouse-live-heap:';
await resetStores(stores, prefix);
const settings = gatehouseStoreSettings(mongodbUri, redisUrl, prefix);
log('seeding');
const fixture = await seed({ settings, users: 2, storageUsers: 0, cheapHashSettings: {} });
const fixturePath = `${DIR}/fixture.json`;
writeFileSync(fixturePath, JSON.stringify(fixture), { mode: 0o600 });
const diagnostics = ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${DIR}`, `--import=${MODULE_LOG}`];
process.env.BENCH_MODULE_LOG_DIR = DIR;
const children: Child[] = [];
const startedAt = new Map<string, number>();
try {
  for (const build of builds) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn', BENCH_MODULE_LOG_DIR: DIR };
    const started = performance.now();
    children.push(await startGatehouseProcess(build.name, [...diagnostics, build.path], env, url));
    startedAt.set(build.name, (performance.now() - started) / 1000);
  }
  if (flags['no-reference'] !== true) {
    const started = performance.now();
    children.push(await startReference(fixturePath, diagnostics));
    startedAt.set('reference', (performance.now() - started) / 1000);
  }
  for (const scenario of scenarios) {
    for (const child of children) {
      const spec = await scenarioRequest(scenario, { url: child.url, fixture, refreshTokens: CONNECTIONS * 8, reference: child.name === 'reference' });
      const result = await runOnce({ key: child.name, url: child.url, spec }, SECONDS, CONNECTIONS);
      log(`${scenario} ${child.name}: ${Math.round(result.requests.total / result.duration)} req/s`);
    }
  }
  const results: Array<{ name: string } & ReturnType<typeof analyse> & ReturnType<typeof modules>> = [];
  for (const child of children) results.push({ name: child.name, ...analyse(await snapshot(child.process.pid!, child.name)), ...modules(child.process.pid!, (startedAt.get(child.name) ?? 0) + 0.5) });
  const kinds = [...new Set(results.flatMap((result) => [...result.kinds.keys()]))].sort((a, b) => (results[0]!.kinds.get(b) ?? 0) - (results[0]!.kinds.get(a) ?? 0));
  process.stdout.write(`\nlive heap by kind (snapshot self sizes, MiB)\n${'kind'.padEnd(44)}${results.map((result) => result.name.padStart(12)).join('')}\n`);
  for (const kind of kinds.filter((kind) => results.some((result) => (result.kinds.get(kind) ?? 0) > 65536))) process.stdout.write(`${kind.padEnd(44)}${results.map((result) => mib(result.kinds.get(kind) ?? 0).padStart(12)).join('')}\n`);
  process.stdout.write(`${'total'.padEnd(44)}${results.map((result) => mib(result.total).padStart(12)).join('')}\n`);
  const packages = [...new Set(results.flatMap((result) => [...result.byPackage.keys()]))].sort((a, b) => (results[0]!.byPackage.get(b)?.[0] ?? 0) - (results[0]!.byPackage.get(a)?.[0] ?? 0));
  process.stdout.write(`\nmodule source loaded, KiB (modules)\n${'package'.padEnd(44)}${results.map((result) => result.name.padStart(16)).join('')}\n`);
  for (const name of packages) process.stdout.write(`${name.padEnd(44)}${results.map((result) => { const entry = result.byPackage.get(name); return (entry === undefined ? '—' : `${(entry[0] / 1024).toFixed(0)} (${entry[1]})`).padStart(16); }).join('')}\n`);
  process.stdout.write(`${'total'.padEnd(44)}${results.map((result) => `${([...result.byPackage.values()].reduce((sum, entry) => sum + entry[0], 0) / 1024).toFixed(0)} (${[...result.byPackage.values()].reduce((sum, entry) => sum + entry[1], 0)})`.padStart(16)).join('')}\n`);
  for (const result of results) {
    process.stdout.write(`\n${result.name}: modules loaded after the start (${result.later.length})\n${result.later.slice(0, 40).join('\n')}\n`);
    process.stdout.write(`\n${result.name}: largest objects and what keeps them\n${result.largest.join('\n')}\n`);
  }
} finally {
  for (const child of children) await child.stop();
  await stores.close();
  benchServices('down');
}
