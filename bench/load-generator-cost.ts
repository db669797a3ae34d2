/**
 * node bench/load-generator-cost.ts [--seconds N] [--concurrency N] [--rounds N] [--cheap-hash]
 *
 * What the sign-in load generator itself costs, by HTTP client, in one run against one
 * Gatehouse (dist/main.js, argon2id at the configured parameters unless --cheap-hash): complete
 * sign-ins (five requests each: /auth, the page, the form POST, /auth again, the code exchange)
 * through fetch (undici: test/helpers/browserless.ts's UserAgent and signIn, a fetch to /token,
 * what the bench used before the twelfth round) and through node:http on a keep-alive Agent
 * (bench/lib/http-agent.ts, what the bench uses now), taking turns A B B A per round. Prints
 * per client: sign-ins/s, this process's CPU per sign-in (the generator's own), Gatehouse's CPU
 * per sign-in, and the generator's share of the two. Never asserts timings. Needs `npm run build`.
 */
import { parseArgs } from 'node:util';
import { signIn, UserAgent } from '../test/helpers/browserless.ts';
import { startGatehouseProcess } from './lib/children.ts';
import { basicAuth, REDIRECT_URI, type BenchClient, type BenchUser } from './lib/fixture.ts';
import { authorizationUrl, completeSignIn } from './lib/flows.ts';
import { treeCpuMs } from './lib/process-tree.ts';
import { table } from './lib/report.ts';
import { seed } from './lib/seed.ts';
import { benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { loadSignInsWith } from './lib/sign-in-load.ts';
import { round } from './lib/stats.ts';
import { gatehouseStoreSettings, openStores, resetStores } from './lib/storage.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({
  options: { seconds: { type: 'string' }, concurrency: { type: 'string' }, rounds: { type: 'string' }, 'cheap-hash': { type: 'boolean', default: false } },
});
const SECONDS = Number(flags.seconds ?? 8);
const CONCURRENCY = Number(flags.concurrency ?? 4);
const ROUNDS = Number(flags.rounds ?? 2);
const ROOT = new URL('..', import.meta.url).pathname;
const CHEAP_HASH = { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' };
const log = (message: string) => process.stderr.write(`load-generator-cost: ${message}\n`);

/** The sign-in as the bench made it before: fetch for every request (the test helpers' user agent). */
async function fetchSignIn(base: string, client: BenchClient, user: BenchUser): Promise<void> {
  const { callback } = await signIn(new UserAgent(), authorizationUrl(base, client), REDIRECT_URI, { username: user.username, password: user.password });
  const response = await fetch(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client) },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code') ?? '', redirect_uri: REDIRECT_URI }).toString(),
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`POST /token → ${response.status} ${body}`);
}

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

const { mongodbUri, redisUrl } = benchServicesUp('gatehouse_load_generator');
const stores = await openStores(mongodbUri, redisUrl);
try {
  const prefix = 'gatehouse-load-generator:';
  await resetStores(stores, prefix);
  const settings = { ...gatehouseStoreSettings(mongodbUri, redisUrl, prefix), ...(flags['cheap-hash'] === true ? CHEAP_HASH : {}) };
  log('seeding');
  const fixture = await seed({ settings, users: 16, storageUsers: 0, cheapHashSettings: CHEAP_HASH });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startGatehouseProcess('gatehouse', [`${ROOT}dist/main.js`], { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn' }, url);
  const client = fixture.clients.web;
  const clients = {
    fetch: (user: BenchUser) => fetchSignIn(url, client, user),
    'node:http': (user: BenchUser) => completeSignIn(url, client, user),
  };
  type Name = keyof typeof clients;
  const totals = new Map<Name, { signIns: number; seconds: number; generator: number; server: number; errors: number }>();
  for (const name of Object.keys(clients) as Name[]) await loadSignInsWith(clients[name], fixture.users, 2, CONCURRENCY); // warm-up: JIT, pools, hash threads
  for (let index = 0; index < ROUNDS; index += 1) {
    for (const name of ['fetch', 'node:http', 'node:http', 'fetch'] as const) {
      const [generator0, server0] = [cpuMs(), treeCpuMs(server.process.pid!)];
      const measured = await loadSignInsWith(clients[name], fixture.users, SECONDS / 2, CONCURRENCY);
      const [generator1, server1] = [cpuMs(), treeCpuMs(server.process.pid!)];
      if (measured.firstError !== undefined) log(`${name}: ${measured.firstError}`);
      const entry = totals.get(name) ?? { signIns: 0, seconds: 0, generator: 0, server: 0, errors: 0 };
      entry.signIns += measured.signIns;
      entry.seconds += measured.seconds;
      entry.generator += generator1 - generator0;
      entry.server += server1 - server0;
      entry.errors += measured.errors;
      totals.set(name, entry);
      log(`round ${index + 1}, ${name}: ${measured.signIns} sign-ins, ${round(measured.perSecond)} /s`);
    }
  }
  const rows = [...totals].map(([name, t]) => {
    const per = (ms: number) => round(ms / Math.max(1, t.signIns), 2);
    return [name, round(t.signIns / t.seconds), per(t.generator), round(t.generator / Math.max(1, t.signIns) / 5, 3), per(t.server), round((100 * t.generator) / Math.max(1, t.generator + t.server), 1), t.errors];
  });
  process.stdout.write(`${table(['client', 'sign-ins/s', 'generator CPU ms/sign-in', 'generator CPU ms/request', 'Gatehouse CPU ms/sign-in', 'generator % of both', 'errors'], rows)}\n`);
  process.stdout.write(`${CONCURRENCY} users at a time, ${ROUNDS} round(s) of A B B A, ${SECONDS / 2} s a segment; argon2id ${flags['cheap-hash'] === true ? 'cheap (1 MiB, 1 pass)' : 'at the configured parameters'}\n`);
  await server.stop();
} finally {
  await stores.close();
  benchServices('down');
}
