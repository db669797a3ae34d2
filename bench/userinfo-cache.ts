/**
 * node bench/userinfo-cache.ts [--cache session|account] [--seconds N] [--connections N]
 *
 * Scenario (e) userinfo only, for one in-process cache: Gatehouse with the cache off (TTL 0),
 * with it on (5 s), and the library's reference, measured alternately in one run on the bench's
 * own services. `--cache session` (default) toggles GATEHOUSE_SESSION_CACHE_TTL (the Session and
 * Grant reads of the session binding and the grant load), `--cache account` toggles
 * GATEHOUSE_ACCOUNT_CACHE_TTL (the user profile); the other cache keeps its default. Also prints
 * the database commands per userinfo and per refresh of both Gatehouse servers. Needs
 * `npm run build` first.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startGatehouseProcess, startReference, type Child } from './lib/children.ts';
import { completeSignIn, postToken } from './lib/flows.ts';
import { measureAlternating, type Target } from './lib/load.ts';
import { seed } from './lib/seed.ts';
import { benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { round } from './lib/stats.ts';
import { commandCounts, gatehouseStoreSettings, openStores, perRequest, resetStores } from './lib/storage.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({ options: { cache: { type: 'string' }, seconds: { type: 'string' }, connections: { type: 'string' } } });
const SETTINGS = { session: 'GATEHOUSE_SESSION_CACHE_TTL', account: 'GATEHOUSE_ACCOUNT_CACHE_TTL' } as const;
const cache = (flags.cache ?? 'session') as keyof typeof SETTINGS;
if (!(cache in SETTINGS)) throw new Error(`--cache must be one of ${Object.keys(SETTINGS).join(', ')}`);
const SETTING = SETTINGS[cache];
const ROOT = new URL('..', import.meta.url).pathname;
const REDIS_PREFIX = 'gatehouse-bench:';
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);


const services = benchServicesUp('gatehouse_bench');
const mongodb = new URL(services.mongodbUri);
const redisUrl = services.redisUrl;

const stores = await openStores(mongodb.toString(), redisUrl);
await resetStores(stores, REDIS_PREFIX);
const settings = gatehouseStoreSettings(mongodb.toString(), redisUrl, REDIS_PREFIX);
const fixture = await seed({ settings, users: 2, storageUsers: 0, cheapHashSettings: { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' } });
mkdirSync(`${ROOT}.data/bench`, { recursive: true });
const fixturePath = `${ROOT}.data/bench/fixture.json`;
writeFileSync(fixturePath, JSON.stringify(fixture), { mode: 0o600 });

const production = async (name: string, ttl: string) => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn', [SETTING]: ttl };
  return startGatehouseProcess(name, [`${ROOT}dist/main.js`], env, url);
};
const children: Child[] = [await production('uncached', '0'), await production('cached', '5'), await startReference(fixturePath)];
try {
  const user = fixture.users[0]!;
  const targets: Target[] = [];
  const refreshTokens: string[] = [];
  for (const child of children) {
    const { access_token: token, refresh_token: refreshToken } = await completeSignIn(child.url, fixture.clients.web, user);
    targets.push({ key: child.name, url: child.url, spec: { method: 'GET', path: '/me', headers: { authorization: `Bearer ${token}` } } });
    refreshTokens.push(refreshToken ?? '');
  }
  log(`${SETTING}: uncached = 0, cached = 5`);
  for (const [index, target] of targets.slice(0, 2).entries()) {
    // One warm-up call each, so the cached server's counts are those of its steady state.
    await (await fetch(`${target.url}/me`, { headers: target.spec.headers })).arrayBuffer();
    let before = await commandCounts(stores);
    for (let call = 0; call < 20; call += 1) await (await fetch(`${target.url}/me`, { headers: target.spec.headers })).arrayBuffer();
    log(`${target.key}: database commands per userinfo ${JSON.stringify(perRequest(before, await commandCounts(stores), 20))}`);
    let refreshToken = refreshTokens[index]!;
    refreshToken = (await postToken(target.url, fixture.clients.web, { grant_type: 'refresh_token', refresh_token: refreshToken })).refresh_token!;
    before = await commandCounts(stores);
    for (let call = 0; call < 20; call += 1) {
      refreshToken = (await postToken(target.url, fixture.clients.web, { grant_type: 'refresh_token', refresh_token: refreshToken })).refresh_token!;
    }
    log(`${target.key}: database commands per refresh ${JSON.stringify(perRequest(before, await commandCounts(stores), 20))}`);
  }
  const measured = await measureAlternating(targets, { warmupSeconds: 2, seconds: Number(flags.seconds ?? 10), connections: Number(flags.connections ?? 16) });
  const reference = measured.reference!.rps;
  for (const [name, m] of Object.entries(measured)) {
    log(`${name}: ${round(m.rps)} req/s, p50 ${round(m.p50Ms, 1)} ms, p99 ${m.p99Ms} ms, errors ${m.errors}, ratio to reference ${round(m.rps / reference, 2)}`);
  }
} finally {
  await Promise.all(children.map((child) => child.stop()));
  await stores.close();
  benchServices('down');
}
