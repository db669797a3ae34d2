/**
 * node bench/deopt-log.ts [--scenario userinfo] [--warmup 40] [--seconds 20] [--build path/to/main.js] [--reference]
 *
 * Which functions V8 still deoptimizes once the JIT should have settled: runs the build (or the
 * library's in-memory reference) with V8's log of deoptimizations (`--log-deopt`), loads it with
 * the scenario for `--warmup` seconds, then `--seconds` more, and counts the deoptimizations
 * logged in that second stretch by function and reason. A function that keeps being
 * deoptimized under a steady load is recompiled again and again (the JIT's time on `V8Worker`
 * in `profile.ts --perf`) and runs unoptimized meanwhile (docs/PERFORMANCE.md, perf21u).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startGatehouseProcess, startReference, type Child } from './lib/children.ts';
import { runOnce } from './lib/load.ts';
import { scenarioRequest, TOKEN_SCENARIOS, type TokenScenario } from './lib/scenarios.ts';
import { seed } from './lib/seed.ts';
import { benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { gatehouseStoreSettings, openStores, resetStores } from './lib/storage.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({ options: { scenario: { type: 'string' }, build: { type: 'string' }, warmup: { type: 'string' }, seconds: { type: 'string' }, reference: { type: 'boolean' } } });
const scenario = (flags.scenario ?? 'userinfo') as TokenScenario;
if (!TOKEN_SCENARIOS.includes(scenario) || scenario === 'refresh') throw new Error(`--scenario must be one of ${TOKEN_SCENARIOS.filter((name) => name !== 'refresh').join(', ')}`);
const WARMUP = Number(flags.warmup ?? 40);
const SECONDS = Number(flags.seconds ?? 20);
const ROOT = new URL('..', import.meta.url).pathname;
const LOG = `${ROOT}.data/bench/deopt.log`;
rmSync(LOG, { force: true });
const V8_LOG = ['--log-deopt', '--no-logfile-per-isolate', `--logfile=${LOG}`];

const services = benchServicesUp('gatehouse_deopt');
const stores = await openStores(services.mongodbUri, services.redisUrl);
const prefix = 'gatehouse-deopt:';
await resetStores(stores, prefix);
const settings = gatehouseStoreSettings(services.mongodbUri, services.redisUrl, prefix);
const fixture = await seed({ settings, users: 2, storageUsers: 0, cheapHashSettings: { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' } });
let child: Child | undefined;
let settledFrom = 0;
try {
  if (flags.reference === true) {
    const fixturePath = `${ROOT}.data/bench/deopt-fixture.json`;
    writeFileSync(fixturePath, JSON.stringify(fixture), { mode: 0o600 });
    child = await startReference(fixturePath, V8_LOG);
  } else {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const build = flags.build === undefined ? `${ROOT}dist/main.js` : flags.build;
    const env = { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn' };
    child = await startGatehouseProcess('gatehouse', [...V8_LOG, build], env, url);
  }
  const spec = await scenarioRequest(scenario, { url: child.url, fixture, refreshTokens: 0, reference: flags.reference === true });
  await runOnce({ key: child.name, url: child.url, spec }, WARMUP, 16);
  settledFrom = readFileSync(LOG, 'utf8').split('\n').length;
  const result = await runOnce({ key: child.name, url: child.url, spec }, SECONDS, 16);
  process.stderr.write(`deopt-log: ${child.name} ${scenario}: ${result.requests.total} requests in the counted stretch\n`);
} finally {
  await child?.stop();
  await resetStores(stores, prefix);
  await stores.close();
  benchServices('down');
}

// code-deopt,<timestamp>,<size>,<code address>,<inlining id>,<script offset>,<bailout type>,<"<file>:<line>:<column>">,<"reason">
const counts = new Map<string, number>();
for (const line of readFileSync(LOG, 'utf8').split('\n').slice(settledFrom)) {
  if (!line.startsWith('code-deopt,')) continue;
  const fields = line.split(',');
  const where = fields.slice(7).join(',');
  const key = where.replace(/file:\/\/\/work\/[^ ]*?node_modules\//g, '').replace(new RegExp(ROOT, 'g'), '');
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
const sorted = [...counts].sort((a, b) => b[1] - a[1]);
process.stdout.write(`deoptimizations after ${WARMUP} s of load, in the next ${SECONDS} s: ${sorted.reduce((sum, [, count]) => sum + count, 0)}\n`);
for (const [where, count] of sorted.slice(0, 40)) process.stdout.write(`${String(count).padStart(6)}  ${where}\n`);
