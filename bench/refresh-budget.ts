/**
 * node bench/refresh-budget.ts [--build name=path/to/main.js ...] [--env name:SETTING=value ...] [--ferretdb name:VAR=value ...]
 *                              [--sql name:STATEMENT ...] [--seconds N] [--warmup N] [--rounds N] [--connections N]
 *
 * Where the machine's CPU goes while refresh-token rotations run (the refresh scenario of
 * bench/compare.ts: token chains, every answer's successor goes back into the pool), split across
 * every process that serves them — Gatehouse's event loop, its libuv pool (the ID token's RS256
 * signature), V8's helper threads (GC, JIT) and its other threads, the load generator (this
 * process), FerretDB, PostgreSQL (FerretDB's backend, its backends included) and Redis — in CPU
 * microseconds per refresh, from /proc, beside PostgreSQL's WAL bytes per refresh and the bytes
 * FerretDB read and wrote on its sockets per refresh (its clients' wire traffic and PostgreSQL's
 * together). Each build gets a FerretDB process of its own on the bench's PostgreSQL cluster and a
 * database of its own, so a FerretDB setting can be compared in one run: `--ferretdb
 * name:GOGC=400` starts build `name`'s FerretDB with that environment variable (GOGC,
 * GOMEMLIMIT, GOMAXPROCS …); `--env name:SETTING=value` starts the build itself with a setting (an
 * empty value unsets it); `--sql name:STATEMENT` runs a statement in FerretDB's PostgreSQL
 * database once build `name` has started (its indexes are made then), `{schema}` standing for
 * the build's schema — e.g. a storage parameter of its tables' indexes. Builds take turns A B B A per round (--rounds), so the shared machine's
 * drift hits all alike; read CPU per refresh and the same-run ratios, not the rates. The commands
 * one refresh sends (MongoDB, Redis as sent) are printed per build first. Needs `npm run build`
 * (copy an older dist elsewhere inside the repository, with a `views` link beside it, to compare).
 * Never asserts timings.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startGatehouseProcess, type Child } from './lib/children.ts';
import { stopProcessOnExit } from './lib/exit-guard.ts';
import { runOnce, type RequestSpec } from './lib/load.ts';
import { table } from './lib/report.ts';
import { scenarioRequest } from './lib/scenarios.ts';
import { seed } from './lib/seed.ts';
import { benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { round } from './lib/stats.ts';
import { treeSchedCpuMsByName } from './lib/process-tree.ts';
import { storesCpuByStore } from './lib/stores-cpu.ts';
import { commandCounts, gatehouseStoreSettings, openStores, perRequest, resetStores, watchRedisSent, type CommandCounts, type Stores } from './lib/storage.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({
  options: {
    build: { type: 'string', multiple: true },
    env: { type: 'string', multiple: true },
    ferretdb: { type: 'string', multiple: true },
    sql: { type: 'string', multiple: true },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string' },
  },
});
const ROOT = new URL('..', import.meta.url).pathname;
const SERVICES = `${ROOT}.data/bench-services`;
const SECONDS = Number(flags.seconds ?? 8);
const WARMUP = Number(flags.warmup ?? 5);
const ROUNDS = Number(flags.rounds ?? 2);
const CONNECTIONS = Number(flags.connections ?? 16);
const FERRETDB_BIN = `${process.env.XDG_CACHE_HOME ?? `${homedir()}/.cache`}/gatehouse/ferretdb-v1.24.2/ferretdb`;
const builds = (flags.build ?? ['gatehouse=dist/main.js']).map((entry) => {
  const at = entry.indexOf('=');
  const path = entry.slice(at + 1);
  return { name: entry.slice(0, at), path: path.startsWith('/') ? path : `${ROOT}${path}` };
});
/** `name:KEY=value` flags, by build name. */
function perBuild(values: readonly string[] | undefined): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const value of values ?? []) {
    const colon = value.indexOf(':');
    const equals = value.indexOf('=', colon);
    if (colon < 1 || equals < 0) throw new Error(`expected name:KEY=value, got ${value}`);
    const name = value.slice(0, colon);
    if (!builds.some((build) => build.name === name)) throw new Error(`no --build named ${name}`);
    out.set(name, { ...out.get(name), [value.slice(colon + 1, equals)]: value.slice(equals + 1) });
  }
  return out;
}
const buildEnv = perBuild(flags.env);
const ferretEnv = perBuild(flags.ferretdb);
const buildSql = new Map<string, string[]>();
for (const value of flags.sql ?? []) {
  const colon = value.indexOf(':');
  buildSql.set(value.slice(0, colon), [...(buildSql.get(value.slice(0, colon)) ?? []), value.slice(colon + 1)]);
}
const log = (message: string) => process.stderr.write(`refresh-budget: ${message}\n`);
const load = () => loadavg().map((value) => round(value, 1)).join(' ');

const sum = (parts: Map<string, number>) => [...parts.values()].reduce((total, ms) => total + ms, 0);

/** Bytes a process read and wrote through system calls so far (sockets included): /proc/PID/io rchar, wchar. */
function ioBytes(pid: number): { read: number; written: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { read: Number(/^rchar: (\d+)/m.exec(io)?.[1] ?? 0), written: Number(/^wchar: (\d+)/m.exec(io)?.[1] ?? 0) };
  } catch {
    return { read: 0, written: 0 };
  }
}

const postgresPort = () => readFileSync(`${SERVICES}/postgres.port`, 'utf8').trim();
const PSQL = readdirSync('/usr/lib/postgresql').sort().reverse().map((version) => `/usr/lib/postgresql/${version}/bin/psql`).find((path) => existsSync(path)) ?? 'psql';
const psql = (sql: string) => execFileSync(PSQL, ['-h', '127.0.0.1', '-p', postgresPort(), '-U', 'postgres', '-d', 'postgres', '-AtF', '\t', '-c', sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
/** PostgreSQL's WAL position (pg_current_wal_lsn: exact and immediate, unlike the statistics views); the cluster trusts loopback as `postgres`. */
const walLsn = () => psql('select pg_current_wal_lsn()').trim();
const walBetween = (from: string, to: string) => Number(psql(`select '${to}'::pg_lsn - '${from}'::pg_lsn`).trim());
/**
 * What the WAL between two positions holds, by record type (pg_walinspect, PostgreSQL 15+):
 * bytes of records and of full-page images. Empty when the extension is not there.
 */
function walByRecord(from: string, to: string): Map<string, { count: number; bytes: number; fpi: number }> {
  const out = new Map<string, { count: number; bytes: number; fpi: number }>();
  try {
    psql('create extension if not exists pg_walinspect');
    for (const line of psql(`select "resource_manager/record_type", count, record_size, fpi_size from pg_get_wal_stats('${from}', '${to}', true) where count > 0`).trim().split('\n')) {
      const [name, count, bytes, fpi] = line.split('\t');
      if (name !== undefined && name !== '') out.set(name, { count: Number(count), bytes: Number(bytes), fpi: Number(fpi) });
    }
  } catch {
    // no pg_walinspect
  }
  return out;
}

/** A FerretDB of the build's own on the bench's PostgreSQL, with `env` added to its environment. */
async function startFerretDb(name: string, env: Record<string, string>): Promise<{ pid: number; uri: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const stateDir = `${SERVICES}/ferretdb-${name}`;
  mkdirSync(stateDir, { recursive: true });
  const child = spawn(
    FERRETDB_BIN,
    [
      '--handler=postgresql',
      `--postgresql-url=postgres://postgres@127.0.0.1:${postgresPort()}/ferretdb`,
      `--state-dir=${stateDir}`,
      `--listen-addr=127.0.0.1:${port}`,
      '--telemetry=disable',
      '--debug-addr=-',
      '--log-level=warn',
    ],
    { env: { ...process.env, ...env }, stdio: 'ignore' },
  );
  const stop = stopProcessOnExit(`FerretDB of ${name}`, child);
  for (let attempt = 0; attempt < 150; attempt += 1) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return { pid: child.pid!, uri: `mongodb://127.0.0.1:${port}/gatehouse_refresh_budget_${name.replace(/\W/g, '_')}`, stop };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`FerretDB of ${name} did not start`);
}

interface Build {
  readonly name: string;
  readonly child: Child;
  readonly ferret: { pid: number; uri: string; stop: () => Promise<void> };
  readonly stores: Stores;
  readonly request: RequestSpec;
  readonly prefix: string;
}

interface Totals {
  requests: number;
  seconds: number;
  server: Map<string, number>;
  client: number;
  ferret: number;
  postgres: number;
  redis: number;
  wal: number;
  walRecords: Map<string, { count: number; bytes: number; fpi: number }>;
  ferretRead: number;
  ferretWritten: number;
  p50: number[];
  p99: number[];
  errors: number;
}

const shared = benchServicesUp('gatehouse_refresh_budget');
const running: Build[] = [];
try {
  for (const build of builds) {
    const ferret = await startFerretDb(build.name, ferretEnv.get(build.name) ?? {});
    const stores = await openStores(ferret.uri, shared.redisUrl);
    const prefix = `gatehouse-refresh-budget-${build.name}:`;
    await resetStores(stores, prefix);
    const settings = gatehouseStoreSettings(ferret.uri, shared.redisUrl, prefix);
    log(`${build.name}: seeding (FerretDB pid ${ferret.pid}${ferretEnv.has(build.name) ? `, ${JSON.stringify(ferretEnv.get(build.name))}` : ''})`);
    const fixture = await seed({ settings, users: 4, storageUsers: 0, cheapHashSettings: {} });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn' };
    for (const [key, value] of Object.entries(buildEnv.get(build.name) ?? {})) {
      if (value === '') delete env[key];
      else env[key] = value;
    }
    const child = await startGatehouseProcess(build.name, [build.path], env, url);
    for (const statement of buildSql.get(build.name) ?? []) {
      const schema = new URL(ferret.uri).pathname.slice(1);
      execFileSync(PSQL, ['-h', '127.0.0.1', '-p', postgresPort(), '-U', 'postgres', '-d', 'ferretdb', '-qX', '-v', 'ON_ERROR_STOP=1', '-c', statement.replaceAll('{schema}', schema)], { stdio: ['ignore', 'ignore', 'inherit'] });
      log(`${build.name}: ran ${statement.slice(0, 80)}`);
    }
    // Chains lost at each segment's end (answers autocannon never read) are not replaced: enough for warm-up, counts and every round.
    const request = await scenarioRequest('refresh', { url, fixture, refreshTokens: CONNECTIONS * (8 + 2 * (ROUNDS + 2)) });
    running.push({ name: build.name, child, ferret, stores, request, prefix });
  }
  for (const build of running) {
    const warm = await runOnce({ key: build.name, url: build.child.url, spec: build.request }, WARMUP, CONNECTIONS);
    log(`${build.name}: warm-up ${warm.requests.total} refreshes`);
  }
  // The commands one refresh sends, per build (outside the timed segments).
  for (const build of running) {
    const before: CommandCounts = await commandCounts(build.stores);
    const watch = await watchRedisSent(build.stores);
    const measured = await runOnce({ key: build.name, url: build.child.url, spec: build.request }, 2, CONNECTIONS);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the once-a-second audit batches
    const sent = await watch.stop();
    const after: CommandCounts = { ...(await commandCounts(build.stores)), ...sent };
    log(`${build.name}: commands per refresh (${measured.requests.total}; Redis counts other builds' background too): ${JSON.stringify(perRequest(before, after, measured.requests.total))}`);
  }

  const totals = new Map<string, Totals>();
  log(`${running.map((build) => build.name).join(', ')}; ${SECONDS} s each, ${ROUNDS} round(s), ${CONNECTIONS} connections; load average ${load()}`);
  for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex += 1) {
    for (const build of roundIndex % 2 === 0 ? running : [...running].reverse()) {
      const pid = build.child.process.pid!;
      const server0 = treeSchedCpuMsByName(pid);
      const stores0 = storesCpuByStore(ROOT);
      const ferret0 = sum(treeSchedCpuMsByName(build.ferret.pid));
      const io0 = ioBytes(build.ferret.pid);
      const wal0 = walLsn();
      const client0 = process.cpuUsage();
      const result = await runOnce({ key: build.name, url: build.child.url, spec: build.request }, SECONDS, CONNECTIONS);
      const client = process.cpuUsage(client0);
      const wal1 = walLsn();
      const io1 = ioBytes(build.ferret.pid);
      const ferret1 = sum(treeSchedCpuMsByName(build.ferret.pid));
      const stores1 = storesCpuByStore(ROOT);
      const server1 = treeSchedCpuMsByName(pid);
      const entry: Totals = totals.get(build.name) ?? { requests: 0, seconds: 0, server: new Map<string, number>(), client: 0, ferret: 0, postgres: 0, redis: 0, wal: 0, walRecords: new Map(), ferretRead: 0, ferretWritten: 0, p50: [], p99: [], errors: 0 };
      entry.requests += result.requests.total;
      entry.seconds += result.duration;
      for (const [name, ms] of server1) entry.server.set(name, (entry.server.get(name) ?? 0) + ms - (server0.get(name) ?? 0));
      entry.client += (client.user + client.system) / 1000;
      entry.ferret += ferret1 - ferret0;
      entry.postgres += stores1.postgres - stores0.postgres;
      entry.redis += stores1.redis - stores0.redis;
      entry.wal += walBetween(wal0, wal1);
      for (const [name, part] of walByRecord(wal0, wal1)) {
        const sofar = entry.walRecords.get(name) ?? { count: 0, bytes: 0, fpi: 0 };
        entry.walRecords.set(name, { count: sofar.count + part.count, bytes: sofar.bytes + part.bytes, fpi: sofar.fpi + part.fpi });
      }
      entry.ferretRead += io1.read - io0.read;
      entry.ferretWritten += io1.written - io0.written;
      entry.p50.push(result.latency.p50);
      entry.p99.push(result.latency.p99);
      entry.errors += result.errors + result.timeouts + result.non2xx;
      totals.set(build.name, entry);
      log(`${build.name}: ${result.requests.total} refreshes, ${round(result.requests.total / Math.max(1, result.duration))} /s, load average ${load()}${result.exhausted ? ' (pool ran out)' : ''}`);
    }
  }

  const rows = running.map((build) => {
    const t = totals.get(build.name)!;
    const per = (ms: number) => round((ms * 1000) / Math.max(1, t.requests));
    const loop = t.server.get('main') ?? 0;
    const libuv = t.server.get('libuv-worker') ?? 0;
    const v8 = t.server.get('V8Worker') ?? 0;
    const server = sum(t.server);
    const all = server + t.client + t.ferret + t.postgres + t.redis;
    return [
      build.name,
      round(t.requests / Math.max(1, t.seconds)),
      round(t.p50.reduce((a, b) => a + b, 0) / t.p50.length, 1),
      Math.max(...t.p99),
      per(loop),
      per(libuv),
      per(v8),
      per(server - loop - libuv - v8),
      per(server),
      per(t.ferret),
      per(t.postgres),
      per(t.redis),
      per(t.ferret + t.postgres + t.redis),
      per(t.client),
      per(all),
      round(t.wal / Math.max(1, t.requests)),
      round(t.ferretRead / Math.max(1, t.requests)),
      round(t.ferretWritten / Math.max(1, t.requests)),
      t.errors,
    ];
  });
  const rssMiB = (pid: number) => round(Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024, 1);
  const rssLine = running.map((build) => `${build.name} ${rssMiB(build.child.process.pid!)} / ${rssMiB(build.ferret.pid)}`).join('; ');
  const base = totals.get(running[0]!.name)!;
  const ratioRows = running.slice(1).map((build) => {
    const t = totals.get(build.name)!;
    const cpu = (x: Totals) => (sum(x.server) + x.ferret + x.postgres + x.redis) / Math.max(1, x.requests);
    return `${build.name} ÷ ${running[0]!.name}: refreshes/s ${round(t.requests / t.seconds / (base.requests / base.seconds), 3)}×; server + stores CPU per refresh ${round(cpu(t) / cpu(base), 3)}×`;
  });
  const walLines = running.map((build) => {
    const t = totals.get(build.name)!;
    const per = (value: number) => round(value / Math.max(1, t.requests), 2);
    const parts = [...t.walRecords].sort((a, b) => b[1].bytes + b[1].fpi - (a[1].bytes + a[1].fpi)).slice(0, 12);
    return `${build.name}: ${parts.map(([name, part]) => `${name} ${per(part.count)} × ${round(part.bytes / Math.max(1, part.count))} B${part.fpi > 0 ? ` + FPI ${per(part.fpi)} B` : ''}`).join('; ')}`;
  });
  process.stdout.write(
    `WAL per refresh by record type (records per refresh × bytes each, full-page images per refresh):\n${walLines.join('\n')}\n` +
    `${table(['build', 'refreshes/s', 'p50 ms', 'p99 ms', 'event loop µs/refresh', 'libuv pool', 'V8 helpers', 'other threads', 'Gatehouse', 'FerretDB', 'PostgreSQL', 'Redis', 'stores', 'load generator', 'all', 'WAL bytes/refresh', 'FerretDB read B', 'FerretDB wrote B', 'errors'], rows)}\n` +
      `${ratioRows.join('\n')}\n` +
      `RSS after the load, MiB (Gatehouse / its FerretDB): ${rssLine}\n` +
      `load average after: ${load()}\n`,
  );
} finally {
  for (const build of running) {
    await build.child.stop();
    await resetStores(build.stores, build.prefix).catch(() => {});
    await build.stores.close();
    await build.ferret.stop();
  }
  benchServices('down');
}
