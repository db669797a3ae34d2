/**
 * node bench/heap-after-load.ts [--load-seconds S] [--idle-wait S] [--sessions N] [--env NAME=value ...] [--node-arg --flag ...] [--no-snapshots]
 *                               [--scenario cc|introspection|userinfo ...] [--seconds N] [--connections N] [--jit-warmup N] [--no-gaps] [--contend N] [--main path/to/main.js]
 *
 * What holds memory after load: starts the production build (`npm run build` first) on the
 * bench's services, takes a V8 heap snapshot when idle, runs a mixed load (complete sign-ins
 * with cheap hashing, refresh rotations, client_credentials, userinfo), waits, takes another,
 * and prints RSS at each step and the heap's growth by constructor (self size). Snapshots stay
 * in .data/bench/heap/ for Chrome DevTools. It also prints V8's heap spaces (committed and used),
 * external and array-buffer memory from the server's /metrics at each step, which tell RSS that
 * is live objects from RSS that is only reserved. --no-snapshots skips the snapshots (taking one
 * costs RSS itself). At each step it prints the memory's parts (bench/lib/memory-parts.ts): RSS,
 * V8's heap committed and used, external memory, and malloc's arenas. `--scenario` (repeatable)
 * drives it the way bench/vs-keycloak.ts drives Gatehouse instead: argon2id at its configured
 * cost, `--jit-warmup` s of client_credentials (4 connections) beside sign-ins (2 at a time), then
 * each scenario for 3 s of warm-up and `--seconds` at `--connections`, idle while vs-keycloak would
 * load Keycloak (its warm-up, then the B B of A B B A; `--no-gaps`: straight on). `--contend N`
 * keeps N busy-looping processes running while the server idles after the load: a machine whose
 * cores others keep busy (Keycloak's JVM and the neighbours in vs-keycloak runs).
 * `--node-arg` starts the server as `node --flag dist/main.js`; `--main` runs another build (a copy
 * of an older dist one level inside the repository, so it finds views/ and node_modules). Never
 * asserts anything.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { rssBytes, startGatehouseProcess } from './lib/children.ts';
import { basicAuth, type Fixture } from './lib/fixture.ts';
import { completeSignIn, mintRefreshTokens, postToken } from './lib/flows.ts';
import { runOnce, type RequestSpec } from './lib/load.ts';
import { describeParts, memoryParts, partsTable, type MemoryParts } from './lib/memory-parts.ts';
import { CC_READ, clientCredentialsRequest, introspectionRequest, userinfoRequest } from './lib/scenarios.ts';
import { loadSignIns } from './lib/sign-in-load.ts';
import { seed } from './lib/seed.ts';
import { benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { gatehouseStoreSettings, openStores, resetStores } from './lib/storage.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({
  options: {
    'load-seconds': { type: 'string' },
    'idle-wait': { type: 'string' },
    sessions: { type: 'string' },
    env: { type: 'string', multiple: true },
    'node-arg': { type: 'string', multiple: true },
    'no-snapshots': { type: 'boolean' },
    scenario: { type: 'string', multiple: true },
    seconds: { type: 'string' },
    connections: { type: 'string' },
    'jit-warmup': { type: 'string' },
    'no-gaps': { type: 'boolean' },
    contend: { type: 'string' },
    main: { type: 'string' },
  },
});
const SCENARIOS = ['cc', 'introspection', 'userinfo'] as const;
const CHOSEN = flags.scenario ?? [];
for (const name of CHOSEN) if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--scenario must be one of ${SCENARIOS.join(', ')}`);
const VS_KEYCLOAK = CHOSEN.length > 0;
const LOAD_SECONDS = Number(flags['load-seconds'] ?? 20);
const IDLE_WAIT = Number(flags['idle-wait'] ?? 70);
const SESSIONS = Number(flags.sessions ?? 2000);
const ROOT = new URL('..', import.meta.url).pathname;
const DIR = `${ROOT}.data/bench/heap`;
const CHEAP_HASH = { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' };
const log = (message: string) => process.stderr.write(`heap-after-load: ${message}\n`);
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size by "type:name" (objects by constructor, strings, arrays, code, ...). */
function census(file: string): Map<string, { count: number; bytes: number }> {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [number, number, number];
  const totals = new Map<string, { count: number; bytes: number }>();
  for (let offset = 0; offset < heap.nodes.length; offset += width) {
    const type = types[heap.nodes[offset + typeAt]!]!;
    const name = type === 'object' || type === 'closure' || type === 'native' ? heap.strings[heap.nodes[offset + nameAt]!]! : '';
    const key = `${type}${name === '' ? '' : `:${name.slice(0, 60)}`}`;
    const entry = totals.get(key) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += heap.nodes[offset + sizeAt]!;
    totals.set(key, entry);
  }
  return totals;
}

async function snapshot(pid: number, label: string): Promise<string> {
  const before = new Set(readdirSync(DIR));
  process.kill(pid, 'SIGUSR2');
  for (let waited = 0; waited < 120_000; waited += 500) {
    await sleep(500);
    const fresh = readdirSync(DIR).filter((name) => !before.has(name) && name.endsWith('.heapsnapshot'));
    if (fresh.length > 0) {
      const file = `${DIR}/${fresh[0]}`;
      // Written (synchronously, by the server) when its size is above zero and stops changing.
      let size = -1;
      while (statSync(file).size !== size || size === 0) {
        size = statSync(file).size;
        await sleep(2000);
      }
      log(`${label}: ${file} (${mib(size)})`);
      return file;
    }
  }
  throw new Error('no heap snapshot appeared');
}

async function main() {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const { mongodbUri, redisUrl } = benchServicesUp('gatehouse_heap');
  const stores = await openStores(mongodbUri, redisUrl);
  await resetStores(stores);
  const prefix = `gatehouse-heap-${randomBytes(3).toString('hex')}:`;
  // Driven as vs-keycloak drives it: the configured hashing cost, as there.
  const settings = { ...gatehouseStoreSettings(mongodbUri, redisUrl, prefix), ...(VS_KEYCLOAK ? {} : CHEAP_HASH) };
  log('seeding');
  const fixture = await seed({ settings, users: VS_KEYCLOAK ? 8 : 0, storageUsers: VS_KEYCLOAK ? 0 : 16, cheapHashSettings: VS_KEYCLOAK ? {} : CHEAP_HASH });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const extra = Object.fromEntries((flags.env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  const env: Record<string, string> = { ...extra, ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn' };
  const metricsPort = await freePort();
  env.GATEHOUSE_METRICS_PORT = String(metricsPort);
  const heapMetrics = async (label: string): Promise<MemoryParts> => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (pattern: RegExp) => [...text.matchAll(pattern)].map((match) => `${match[1]} ${mib(Number(match[2]))}`).join(', ');
    log(`${label}: heap spaces committed: ${value(/^nodejs_heap_space_size_total_bytes\{space="([^"]+)"\} (\S+)$/gm)}`);
    log(`${label}: heap spaces used: ${value(/^nodejs_heap_space_size_used_bytes\{space="([^"]+)"\} (\S+)$/gm)}`);
    const parts = await memoryParts(pid, () => Promise.resolve(text));
    log(`${label}: ${describeParts(parts)}; idle collections so far: ${/^gatehouse_idle_collections_total (\S+)$/m.exec(text)?.[1] ?? '?'}`);
    return parts;
  };
  const server = await startGatehouseProcess('gatehouse', [...(flags['node-arg'] ?? []), '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${DIR}`, flags.main ?? `${ROOT}dist/main.js`], env, url);
  const pid = server.process.pid!;
  let stopContenders = () => {};
  try {
    await sleep(2000);
    const parts: Array<[string, MemoryParts]> = [['idle after the start', await heapMetrics('idle')]];
    const snapshots = flags['no-snapshots'] !== true;
    const first = snapshots ? await snapshot(pid, 'idle') : undefined;
    const rssAfterFirstSnapshot = rssBytes(pid);

    if (VS_KEYCLOAK) await vsKeycloakLoad(url, fixture);
    else await mixedLoad(url, fixture);
    parts.push(['right after the load', await heapMetrics('right after load')]);
    const contenders = Array.from({ length: Number(flags.contend ?? 0) }, () => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
    stopContenders = () => {
      for (const contender of contenders) contender.kill();
    };
    log(`idle for ${IDLE_WAIT} s${contenders.length > 0 ? ` beside ${contenders.length} busy processes` : ''}`);
    await sleep(IDLE_WAIT * 1000);
    parts.push([`after ${IDLE_WAIT} s idle`, await heapMetrics(`after ${IDLE_WAIT} s idle`)]);
    stopContenders();
    const second = snapshots ? await snapshot(pid, 'after load, idle') : undefined;
    const [cold, , after] = parts.map(([, each]) => each.rss) as [number, number, number];
    process.stdout.write(`${partsTable(parts)}\nRSS after ${IDLE_WAIT} s idle ÷ idle after the start: ${(after / cold).toFixed(2)}× (after the first snapshot ${mib(rssAfterFirstSnapshot)})\n`);

    if (first === undefined || second === undefined) return;
    const a = census(first);
    const b = census(second);
    const growth = [...b].map(([key, after]) => {
      const before = a.get(key) ?? { count: 0, bytes: 0 };
      return { key, bytes: after.bytes - before.bytes, count: after.count - before.count, total: after.bytes };
    });
    growth.sort((x, y) => y.bytes - x.bytes);
    const sum = (map: Map<string, { bytes: number }>) => [...map.values()].reduce((total, entry) => total + entry.bytes, 0);
    process.stdout.write(`live heap (snapshot self sizes): ${mib(sum(a))} → ${mib(sum(b))}\n\nlargest growth by type:constructor\n`);
    for (const row of growth.slice(0, 25)) process.stdout.write(`${mib(row.bytes).padStart(10)}  ${String(row.count).padStart(8)} objects  (now ${mib(row.total)})  ${row.key}\n`);
  } finally {
    stopContenders();
    await server.stop();
    await stores.close();
    benchServices('down');
  }
}

/** bench/vs-keycloak.ts's load on Gatehouse alone: its JIT warm-up, then each chosen scenario (3 s warm-up + the measured seconds). */
async function vsKeycloakLoad(url: string, fixture: Fixture): Promise<void> {
  const seconds = Number(flags.seconds ?? 6);
  const connections = Number(flags.connections ?? 16);
  const jitWarmup = Number(flags['jit-warmup'] ?? 20);
  const rs256 = basicAuth(fixture.clients.rs256);
  log(`load as vs-keycloak: ${jitWarmup} s of client_credentials (4 connections) + sign-ins (2 at a time), then ${CHOSEN.join(', ')}: 3 + ${seconds} s each at ${connections} connections`);
  // vs-keycloak measures Keycloak in between (its warm-up, then A B B A): Gatehouse idles meanwhile.
  const theOthersTurn = (seconds: number) => (flags['no-gaps'] === true ? Promise.resolve() : sleep(seconds * 1000));
  await Promise.all([runOnce({ key: 'gatehouse', url, spec: clientCredentialsRequest(rs256) }, jitWarmup, 4), loadSignIns(url, fixture.clients.web, fixture.users, jitWarmup, 2)]);
  await theOthersTurn(jitWarmup);
  for (const name of CHOSEN) {
    let spec: RequestSpec;
    if (name === 'cc') spec = clientCredentialsRequest(rs256);
    else if (name === 'introspection') spec = introspectionRequest(rs256, (await postToken(url, fixture.clients.rs256, CC_READ)).access_token);
    else spec = userinfoRequest((await completeSignIn(url, fixture.clients.web, fixture.users[0]!)).access_token);
    // As measureAlternating: both warm up, then G K K G in halves of the measured time.
    const half = Math.max(1, seconds / 2);
    await runOnce({ key: 'gatehouse', url, spec }, 3, connections);
    await theOthersTurn(3);
    await runOnce({ key: 'gatehouse', url, spec }, half, connections);
    await theOthersTurn(2 * half);
    await runOnce({ key: 'gatehouse', url, spec }, half, connections);
  }
}

/** Sign-ins with cheap hashing, then refresh + client_credentials + userinfo (the default). */
async function mixedLoad(url: string, fixture: Fixture): Promise<void> {
  log(`load: ${SESSIONS} sign-ins (16 at a time), then ${LOAD_SECONDS} s of refresh + client_credentials + userinfo`);
  let done = 0;
  const web = fixture.clients.web;
  const signInWorker = async () => {
    while (done < SESSIONS) {
      done += 1;
      await completeSignIn(url, web, fixture.storageUsers[done % fixture.storageUsers.length]!);
    }
  };
  await Promise.all(Array.from({ length: 16 }, signInWorker));
  const pool = await mintRefreshTokens(url, web, fixture.storageUsers[0]!, 400);
  const signedIn = await completeSignIn(url, web, fixture.storageUsers[1]!);
  const deadline = Date.now() + LOAD_SECONDS * 1000;
  const loop = async (request: () => Promise<unknown>) => {
    while (Date.now() < deadline) await request();
  };
  await Promise.all([
    ...Array.from({ length: 4 }, () =>
      loop(async () => {
        const token = pool.pop();
        if (token !== undefined) await postToken(url, web, { grant_type: 'refresh_token', refresh_token: token });
        else await sleep(50);
      }),
    ),
    ...Array.from({ length: 4 }, () => loop(() => postToken(url, fixture.clients.rs256, { grant_type: 'client_credentials', scope: 'read' }))),
    ...Array.from({ length: 4 }, () => loop(async () => (await fetch(`${url}/me`, { headers: { authorization: `Bearer ${signedIn.access_token}` } })).arrayBuffer())),
  ]);
}

await main();
