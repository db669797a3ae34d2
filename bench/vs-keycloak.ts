/**
 * npm run bench -- --vs-keycloak [--only SCENARIO ...] [--gatehouse-env SETTING=value ...] [--gatehouse-workers N] [--seconds N] [--warmup N] [--jit-warmup N] [--connections N] [--sign-in-users N] [--pool N] [--keycloak-heap OPTS] [--idle-wait S]
 *
 * Gatehouse and Keycloak 26 side by side, on the same machine, in the same run (issue 21's
 * yardstick): the production build of Gatehouse (FerretDB + Redis from scripts/services) and
 * Keycloak in its production mode on PostgreSQL — the same PostgreSQL cluster FerretDB stands on.
 * Each scenario is warmed up on both, then measured in A B B A order so the shared machine's
 * drift hits both alike; ratios are the result, absolute numbers only what the machine did then.
 * The load average is recorded before and after. Never asserts timings. `--only` (repeatable)
 * runs some of the scenarios: cc, introspection, userinfo, refresh, sign-in (default: all).
 * `--gatehouse-env` (repeatable) starts Gatehouse with a setting beside its defaults (e.g.
 * `GATEHOUSE_AUDIT_CLIENT_CREDENTIALS=per-minute`, closer to Keycloak's default of storing no
 * events); the report names it. Gatehouse's memory is also read in parts (RSS, V8 heap committed
 * and used, external, malloc's arenas, open sockets; from /proc and its /metrics, served on a
 * port of its own for this) idle, right after the load and after the idle wait.
 * `--gatehouse-workers N` is `--gatehouse-env GATEHOUSE_WORKERS=N` (every Gatehouse of the run;
 * memory is then the supervisor's and its workers' together).
 *
 * client_credentials is measured twice on Gatehouse's side, in the same A B C C B A turns:
 * with the audit setting as configured (by default `each`: a stored audit event per token) and
 * with `GATEHOUSE_AUDIT_CLIENT_CREDENTIALS=per-minute` (a stored count per client, address and
 * minute, every token still an audit log line), each row with its own ratio to the same
 * Keycloak segments. Keycloak, as benched, stores no event per token: the `per-minute` row is the
 * like-for-like one, the `each` row what a default Gatehouse does (docs/PERFORMANCE.md, perf12
 * and perf16). The second Gatehouse (same stores, a port of its own) runs only until that
 * scenario is over; `--gatehouse-env GATEHOUSE_AUDIT_CLIENT_CREDENTIALS=…` leaves it out.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { OWASP_ARGON2_PARAMS } from '../src/accounts/argon2-params.ts';
import { rssBytes, startGatehouseProcess, type Child } from './lib/children.ts';
import { basicAuth, type BenchUser } from './lib/fixture.ts';
import { completeSignIn, mintRefreshTokens, postToken } from './lib/flows.ts';
import { measureHashLimit } from './lib/hash-limit.ts';
import { freshKeycloakDatabase, createRealm, groupRssBytes, keycloakHashParameters, keycloakHome, KEYCLOAK_VERSION, startKeycloak } from './lib/keycloak.ts';
import { KEYCLOAK_PATHS, keycloakBasic, keycloakRefreshTokens, keycloakSignIn, keycloakToken } from './lib/keycloak-flows.ts';
import { measureAlternating, preflight, runOnce, type Measured, type RequestSpec } from './lib/load.ts';
import { memoryParts, metricsReader, partsMiB, partsTable } from './lib/memory-parts.ts';
import { table } from './lib/report.ts';
import { clientCredentialsRequest, introspectionRequest, refreshRequest, userinfoRequest } from './lib/scenarios.ts';
import { seed } from './lib/seed.ts';
import { benchDatabaseKind, benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { loadSignInsWith, type SignInMeasured } from './lib/sign-in-load.ts';
import { round } from './lib/stats.ts';
import { gatehouseStoreSettings, openStores, resetStores } from './lib/storage.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({
  options: {
    'vs-keycloak': { type: 'boolean' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    'sign-in-users': { type: 'string' },
    'keycloak-heap': { type: 'string' },
    'jit-warmup': { type: 'string' },
    pool: { type: 'string' },
    'idle-wait': { type: 'string' },
    only: { type: 'string', multiple: true },
    'gatehouse-env': { type: 'string', multiple: true },
    'gatehouse-workers': { type: 'string' },
  },
});
/** Settings Gatehouse runs with beyond its defaults (`--gatehouse-env SETTING=value`). */
const GATEHOUSE_ENV: Record<string, string> = {};
for (const entry of flags['gatehouse-env'] ?? []) {
  const match = /^(GATEHOUSE_[A-Z0-9_]+)=(.*)$/.exec(entry);
  if (match === null) throw new Error(`--gatehouse-env must look like GATEHOUSE_SETTING=value, not ${entry}`);
  GATEHOUSE_ENV[match[1]!] = match[2]!;
}
if (flags['gatehouse-workers'] !== undefined) {
  const workers = flags['gatehouse-workers'];
  if (workers !== 'auto' && !/^[1-9][0-9]*$/.test(workers)) throw new Error(`--gatehouse-workers must be a positive whole number or auto, not ${workers}`);
  GATEHOUSE_ENV.GATEHOUSE_WORKERS = workers;
}
/** The audit setting of the second client_credentials row (none when --gatehouse-env already chose one). */
const PER_MINUTE_ROW = GATEHOUSE_ENV.GATEHOUSE_AUDIT_CLIENT_CREDENTIALS === undefined;
const SCENARIO_NAMES = ['cc', 'introspection', 'userinfo', 'refresh', 'sign-in'] as const;
const ONLY = flags.only ?? [...SCENARIO_NAMES];
for (const name of ONLY) if (!(SCENARIO_NAMES as readonly string[]).includes(name)) throw new Error(`--only must be one of ${SCENARIO_NAMES.join(', ')}`);
const runs = (name: (typeof SCENARIO_NAMES)[number]) => ONLY.includes(name);
// After the load: how long both servers idle before their RSS is read again (Gatehouse's hash workers exit after 60 s idle).
const IDLE_WAIT_SECONDS = Number(flags['idle-wait'] ?? 70);
const SECONDS = Number(flags.seconds ?? 6);
const WARMUP = Number(flags.warmup ?? 3);
// A JVM reaches its speed after its JIT compiled the hot paths: every server gets this many seconds of mixed load first.
const JIT_WARMUP = Number(flags['jit-warmup'] ?? 20);
const CONNECTIONS = Number(flags.connections ?? 16);
// The issue's measurement signed in 4 at a time.
const SIGN_IN_USERS = Number(flags['sign-in-users'] ?? 4);
const KEYCLOAK_HEAP = flags['keycloak-heap'] ?? '-Xms64m -Xmx1g';
const ROOT = new URL('..', import.meta.url).pathname;
const SERVICES_DIR = `${ROOT}.data/bench-services`;
const REDIS_PREFIX = 'gatehouse-vs-keycloak:';
/** Keycloak 26's default password hashing (read back from a stored credential in the run, too). */
const KEYCLOAK_ARGON2 = { memoryKiB: 7168, iterations: 5, parallelism: 1 };

const log = (message: string) => process.stderr.write(`bench vs keycloak: ${message}\n`);
const mib = (bytes: number) => round(bytes / 1024 / 1024);
const load = () => loadavg().map((value) => round(value, 2));

interface ScenarioRow {
  readonly scenario: string;
  /** Gatehouse's settings for this row beyond the run's (the per-minute client_credentials row). */
  readonly gatehouseSettings?: Readonly<Record<string, string>>;
  readonly gatehouse: Measured | SignInMeasured;
  readonly keycloak: Measured | SignInMeasured;
}

const rate = (measured: Measured | SignInMeasured) => ('rps' in measured ? measured.rps : measured.perSecond);

async function main() {
  const startedAt = new Date();
  const problems: string[] = [];
  const loadBefore = load();
  log(`${SECONDS} s per server per scenario (A B B A), ${WARMUP} s warm-up, ${CONNECTIONS} connections, ${SIGN_IN_USERS} users signing in; load average ${loadBefore.join(' ')}`);
  const kc = keycloakHome(log);
  const { mongodbUri, redisUrl } = benchServicesUp('gatehouse_vs_keycloak');
  log('building Gatehouse (npm run build)');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const stores = await openStores(mongodbUri, redisUrl);
  await resetStores(stores, REDIS_PREFIX);
  await stores.close();

  const settings = gatehouseStoreSettings(mongodbUri, redisUrl, REDIS_PREFIX);
  log('seeding Gatehouse through its own services');
  const fixture = await seed({ settings, users: 8, storageUsers: 0, cheapHashSettings: {} });
  log('measuring the hash limits (single argon2id hashes at both servers\' parameters, nothing else running of ours)');
  const hashLimits = {
    gatehouse: await measureHashLimit(OWASP_ARGON2_PARAMS, 10),
    keycloak: await measureHashLimit(KEYCLOAK_ARGON2, 10),
  };

  const children: Child[] = [];
  try {
    const port = await freePort();
    const gatehouseUrl = `http://127.0.0.1:${port}`;
    log('starting Gatehouse (node dist/main.js) and Keycloak (kc.sh start --optimized, PostgreSQL)');
    // Its /metrics on a port of its own (production serves it nowhere otherwise): the V8 heap's part of its memory.
    const metricsEnv: Record<string, string> = GATEHOUSE_ENV.GATEHOUSE_METRICS_PORT === undefined && GATEHOUSE_ENV.GATEHOUSE_METRICS_TOKEN === undefined ? { GATEHOUSE_METRICS_PORT: String(await freePort()) } : {};
    const gatehouseEnv: Record<string, string> = { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: gatehouseUrl, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn', ...metricsEnv, ...GATEHOUSE_ENV };
    const gatehouse = await startGatehouseProcess('gatehouse', [`${ROOT}dist/main.js`], gatehouseEnv, gatehouseUrl);
    children.push(gatehouse);
    // The like-for-like client_credentials row: a second Gatehouse on the same stores, storing no event per token.
    let perMinute: Child | undefined;
    if (runs('cc') && PER_MINUTE_ROW) {
      const perMinutePort = await freePort();
      const perMinuteUrl = `http://127.0.0.1:${perMinutePort}`;
      const perMinuteEnv = { ...gatehouseEnv, GATEHOUSE_ISSUER: perMinuteUrl, PORT: String(perMinutePort), GATEHOUSE_AUDIT_CLIENT_CREDENTIALS: 'per-minute', ...(metricsEnv.GATEHOUSE_METRICS_PORT === undefined ? {} : { GATEHOUSE_METRICS_PORT: String(await freePort()) }) };
      perMinute = await startGatehouseProcess('gatehouse-per-minute', [`${ROOT}dist/main.js`], perMinuteEnv, perMinuteUrl);
      children.push(perMinute);
    }
    const gatehouseMetrics = metricsReader(gatehouseEnv, gatehouseUrl);
    const gatehouseParts = async () => {
      const text = await gatehouseMetrics().catch(() => '');
      return { parts: await memoryParts(gatehouse.process.pid!, () => Promise.resolve(text)), idleCollections: Number(/^gatehouse_idle_collections_total (\S+)$/m.exec(text)?.[1] ?? Number.NaN) };
    };
    const keycloak = await startKeycloak({ ...kc, ...freshKeycloakDatabase(SERVICES_DIR, 'keycloak_bench'), heap: KEYCLOAK_HEAP });
    children.push(keycloak);
    log(`Keycloak ready in ${round(keycloak.startToReadyMs / 1000)} s (new database); creating the realm`);
    const realm = await createRealm(keycloak.url, keycloak.admin, fixture.users);
    const keycloakHashing = await keycloakHashParameters(keycloak.url, keycloak.admin, fixture.users[0]!.username);
    const users: BenchUser[] = fixture.users;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idle = { gatehouse: rssBytes(gatehouse.process.pid!), keycloak: groupRssBytes(keycloak.process.pid!) };
    const partsIdle = await gatehouseParts();

    log(`warming up both servers' JIT compilers: ${JIT_WARMUP} s of mixed load each`);
    const warmupSpecs = {
      gatehouse: clientCredentialsRequest(basicAuth(fixture.clients.rs256)),
      keycloak: clientCredentialsRequest(keycloakBasic(realm.service), KEYCLOAK_PATHS.token, { grant_type: 'client_credentials' }),
    } as const;
    // The per-minute Gatehouse serves client_credentials only: its warm-up is that.
    if (perMinute !== undefined) await runOnce({ key: 'gatehouse-per-minute', url: perMinute.url, spec: warmupSpecs.gatehouse }, JIT_WARMUP, 4);
    for (const [name, url] of [['gatehouse', gatehouse.url], ['keycloak', keycloak.url]] as const) {
      const signInOnce = name === 'gatehouse' ? (user: BenchUser) => completeSignIn(url, fixture.clients.web, user) : (user: BenchUser) => keycloakSignIn(url, realm.web, user);
      await Promise.all([
        runOnce({ key: name, url, spec: warmupSpecs[name] }, JIT_WARMUP, 4),
        loadSignInsWith(signInOnce, users, JIT_WARMUP, 2),
      ]);
    }

    const rows: ScenarioRow[] = [];
    const options = { warmupSeconds: WARMUP, seconds: SECONDS, connections: CONNECTIONS };
    const side = async (scenario: string, specs: { gatehouse: RequestSpec; keycloak: RequestSpec }, accept: (body: Record<string, unknown>) => boolean) => {
      log(scenario);
      for (const [name, url] of [['gatehouse', gatehouse.url], ['keycloak', keycloak.url]] as const) {
        const problem = await preflight(url, specs[name], accept).then((found) => (found === undefined ? undefined : `${scenario} on ${name}: ${found}`));
        if (problem !== undefined) problems.push(problem);
      }
      const measured = await measureAlternating(
        [
          { key: 'gatehouse', url: gatehouse.url, spec: specs.gatehouse },
          { key: 'keycloak', url: keycloak.url, spec: specs.keycloak },
        ],
        options,
      );
      rows.push({ scenario, gatehouse: measured.gatehouse!, keycloak: measured.keycloak! });
    };
    const isToken = (body: Record<string, unknown>) => typeof body.access_token === 'string';

    if (runs('cc')) {
      const audit = GATEHOUSE_ENV.GATEHOUSE_AUDIT_CLIENT_CREDENTIALS ?? 'each';
      const scenario = `client_credentials → JWT RS256 (audit ${audit})`;
      const specs = {
        gatehouse: clientCredentialsRequest(basicAuth(fixture.clients.rs256)),
        keycloak: clientCredentialsRequest(keycloakBasic(realm.service), KEYCLOAK_PATHS.token, { grant_type: 'client_credentials' }),
      };
      if (perMinute === undefined) await side(scenario, specs, isToken);
      else {
        // Three servers in one A B C C B A: each Gatehouse row is read against the same Keycloak segments.
        log(`${scenario}, and with audit per-minute`);
        for (const [name, url, spec] of [['gatehouse', gatehouse.url, specs.gatehouse], ['gatehouse-per-minute', perMinute.url, specs.gatehouse], ['keycloak', keycloak.url, specs.keycloak]] as const) {
          const problem = await preflight(url, spec, isToken).then((found) => (found === undefined ? undefined : `${scenario} on ${name}: ${found}`));
          if (problem !== undefined) problems.push(problem);
        }
        const measured = await measureAlternating(
          [
            { key: 'gatehouse', url: gatehouse.url, spec: specs.gatehouse },
            { key: 'gatehouse-per-minute', url: perMinute.url, spec: specs.gatehouse },
            { key: 'keycloak', url: keycloak.url, spec: specs.keycloak },
          ],
          options,
        );
        rows.push({ scenario, gatehouse: measured.gatehouse!, keycloak: measured.keycloak! });
        rows.push({ scenario: 'client_credentials → JWT RS256 (audit per-minute: no stored event, as Keycloak)', gatehouseSettings: { GATEHOUSE_AUDIT_CLIENT_CREDENTIALS: 'per-minute' }, gatehouse: measured['gatehouse-per-minute']!, keycloak: measured.keycloak! });
      }
      // Its row is measured: the second Gatehouse stops before the other scenarios and the memory readings.
      if (perMinute !== undefined) {
        await perMinute.stop();
        children.splice(children.indexOf(perMinute), 1);
      }
    }

    if (runs('introspection')) {
      const jwts = {
        gatehouse: (await postToken(gatehouse.url, fixture.clients.rs256, { grant_type: 'client_credentials', scope: 'read' })).access_token,
        keycloak: (await keycloakToken(keycloak.url, realm.service, { grant_type: 'client_credentials' })).access_token,
      };
      await side(
        'introspection of a JWT',
        {
          gatehouse: introspectionRequest(basicAuth(fixture.clients.rs256), jwts.gatehouse),
          keycloak: introspectionRequest(keycloakBasic(realm.service), jwts.keycloak, KEYCLOAK_PATHS.introspection),
        },
        (body) => body.active === true,
      );
    }

    if (runs('userinfo')) {
      const signedIn = {
        gatehouse: await completeSignIn(gatehouse.url, fixture.clients.web, users[0]!),
        keycloak: await keycloakSignIn(keycloak.url, realm.web, users[0]!),
      };
      await side(
        'userinfo',
        {
          gatehouse: userinfoRequest(signedIn.gatehouse.access_token),
          keycloak: userinfoRequest(signedIn.keycloak.access_token, KEYCLOAK_PATHS.userinfo),
        },
        (body) => typeof body.sub === 'string',
      );
    }

    if (runs('refresh')) {
      // Each token heads a chain (its rotation's successor goes back into the pool), so the pool
      // only has to cover the connections; one that runs out anyway (errors) is marked in the report.
      const poolSize = Number(flags.pool ?? CONNECTIONS * 16);
      log(`minting ${poolSize} refresh tokens on each server`);
      const pools = {
        gatehouse: await mintRefreshTokens(gatehouse.url, fixture.clients.web, users[1]!, poolSize),
        keycloak: await keycloakRefreshTokens(keycloak.url, realm.web, users[1]!, poolSize),
      };
      await side(
        'refresh_token grant (rotation, single use)',
        {
          gatehouse: refreshRequest(basicAuth(fixture.clients.web), pools.gatehouse),
          keycloak: refreshRequest(keycloakBasic(realm.web), pools.keycloak, KEYCLOAK_PATHS.token),
        },
        isToken,
      );
    }

    if (runs('sign-in')) {
      log(`complete sign-ins on the hosted pages, ${SIGN_IN_USERS} at a time (A B B A)`);
      const signInOnce = {
        gatehouse: (user: BenchUser) => completeSignIn(gatehouse.url, fixture.clients.web, user),
        keycloak: (user: BenchUser) => keycloakSignIn(keycloak.url, realm.web, user),
      };
      const order = ['gatehouse', 'keycloak'] as const;
      for (const name of order) await loadSignInsWith(signInOnce[name], users, Math.max(1, WARMUP), SIGN_IN_USERS);
      const segments: Record<(typeof order)[number], SignInMeasured[]> = { gatehouse: [], keycloak: [] };
      for (const name of [...order, ...[...order].reverse()]) {
        segments[name].push(await loadSignInsWith(signInOnce[name], users, SECONDS / 2, SIGN_IN_USERS));
    }
    const mergeSignIns = (parts: SignInMeasured[]): SignInMeasured => {
      const signIns = parts.reduce((sum, part) => sum + part.signIns, 0);
      const seconds = parts.reduce((sum, part) => sum + part.seconds, 0);
      const firstError = parts.find((part) => part.firstError !== undefined)?.firstError;
      return {
        signIns,
        seconds,
        perSecond: signIns / seconds,
        p50Ms: parts.reduce((sum, part) => sum + part.p50Ms * part.signIns, 0) / Math.max(1, signIns),
        p99Ms: Math.max(...parts.map((part) => part.p99Ms)),
        errors: parts.reduce((sum, part) => sum + part.errors, 0),
        ...(firstError === undefined ? {} : { firstError }),
      };
    };
    const signIns = { gatehouse: mergeSignIns(segments.gatehouse), keycloak: mergeSignIns(segments.keycloak) };
    for (const [name, measured] of Object.entries(signIns)) if (measured.firstError !== undefined) problems.push(`sign-ins on ${name}: ${measured.firstError}`);
    rows.push({ scenario: `complete sign-ins (hosted page, ${SIGN_IN_USERS} at a time)`, gatehouse: signIns.gatehouse, keycloak: signIns.keycloak });
    }

    const afterLoad = { gatehouse: rssBytes(gatehouse.process.pid!), keycloak: groupRssBytes(keycloak.process.pid!) };
    const partsAfterLoad = await gatehouseParts();
    const loadAfter = load();
    log(`idle memory: waiting ${IDLE_WAIT_SECONDS} s without requests`);
    await new Promise((resolve) => setTimeout(resolve, IDLE_WAIT_SECONDS * 1000));
    const idleAfterLoad = { gatehouse: rssBytes(gatehouse.process.pid!), keycloak: groupRssBytes(keycloak.process.pid!) };
    const partsIdleAfterLoad = await gatehouseParts();
    const loadIdle = load();
    const summary = rows.map((row) => ({
      scenario: row.scenario,
      ...(row.gatehouseSettings === undefined ? {} : { gatehouseSettings: row.gatehouseSettings }),
      gatehousePerSecond: round(rate(row.gatehouse)),
      keycloakPerSecond: round(rate(row.keycloak)),
      ratio: rate(row.keycloak) > 0 ? round(rate(row.gatehouse) / rate(row.keycloak), 2) : null,
      gatehouseP50Ms: round(row.gatehouse.p50Ms),
      gatehouseP99Ms: round(row.gatehouse.p99Ms),
      keycloakP50Ms: round(row.keycloak.p50Ms),
      keycloakP99Ms: round(row.keycloak.p99Ms),
      errors: { gatehouse: row.gatehouse.errors, keycloak: row.keycloak.errors },
      ...('poolExhausted' in row.gatehouse && (row.gatehouse.poolExhausted || (row.keycloak as Measured).poolExhausted) ? { note: 'a token pool ran out before the time was up' } : {}),
    }));
    const signInRow = summary.find((row) => row.scenario.startsWith('complete sign-ins')) ?? { gatehousePerSecond: null, keycloakPerSecond: null };
    const result = {
      startedAt: startedAt.toISOString(),
      settings: { only: ONLY, seconds: SECONDS, warmupSeconds: WARMUP, jitWarmupSeconds: JIT_WARMUP, connections: CONNECTIONS, signInUsers: SIGN_IN_USERS, keycloakHeap: KEYCLOAK_HEAP },
      machine: {
        nproc: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGiB: round(totalmem() / 1024 ** 3),
        loadAverageBefore: loadBefore,
        loadAverageAfter: loadAfter,
        node: process.version,
        gatehouseStore: `${benchDatabaseKind()} + Redis`,
        gatehouseSettings: Object.keys(GATEHOUSE_ENV).length === 0 ? 'defaults' : GATEHOUSE_ENV,
        keycloak: `Keycloak ${KEYCLOAK_VERSION} (kc.sh start --optimized, PostgreSQL, ${KEYCLOAK_HEAP})`,
      },
      hashing: {
        gatehouse: `argon2id m=${OWASP_ARGON2_PARAMS.memoryKiB} KiB, t=${OWASP_ARGON2_PARAMS.iterations}, p=${OWASP_ARGON2_PARAMS.parallelism}`,
        keycloak: keycloakHashing,
        gatehouseHashMs: round(hashLimits.gatehouse.medianHashMs),
        keycloakHashMs: round(hashLimits.keycloak.medianHashMs),
        gatehouseHashLimitPerSecond: round(hashLimits.gatehouse.perSecond),
        keycloakHashLimitPerSecond: round(hashLimits.keycloak.perSecond),
        gatehouseSignInsToHashLimit: round((signInRow.gatehousePerSecond ?? 0) / hashLimits.gatehouse.perSecond, 2),
        keycloakSignInsToHashLimit: round((signInRow.keycloakPerSecond ?? 0) / hashLimits.keycloak.perSecond, 2),
        // The same by a hash's CPU time (bench/lib/hash-limit.ts): holds when the machine is loaded.
        gatehouseHashCpuMs: round(hashLimits.gatehouse.cpuMsPerHash),
        keycloakHashCpuMs: round(hashLimits.keycloak.cpuMsPerHash),
        gatehouseSignInsToHashLimitByCpu: round((signInRow.gatehousePerSecond ?? 0) / hashLimits.gatehouse.perSecondByCpu, 2),
        keycloakSignInsToHashLimitByCpu: round((signInRow.keycloakPerSecond ?? 0) / hashLimits.keycloak.perSecondByCpu, 2),
      },
      startToReadyMs: { gatehouse: Math.round(gatehouse.startToReadyMs), keycloakFirstStart: Math.round(keycloak.startToReadyMs) },
      memoryMiB: {
        gatehouseIdle: mib(idle.gatehouse),
        keycloakIdle: mib(idle.keycloak),
        gatehouseAfterLoad: mib(afterLoad.gatehouse),
        keycloakAfterLoad: mib(afterLoad.keycloak),
        gatehouseIdleAfterLoad: mib(idleAfterLoad.gatehouse),
        keycloakIdleAfterLoad: mib(idleAfterLoad.keycloak),
        idleWaitSeconds: IDLE_WAIT_SECONDS,
        gatehouseIdleAfterOverBefore: round(idleAfterLoad.gatehouse / idle.gatehouse, 2),
        note: 'Gatehouse: the node process (FerretDB, PostgreSQL, Redis not included); Keycloak: kc.sh and its JVM (PostgreSQL not included)',
        // Where Gatehouse's memory is (bench/lib/memory-parts.ts), and the full collections it ran when it went quiet.
        gatehouseParts: { idle: partsMiB(partsIdle.parts), afterLoad: partsMiB(partsAfterLoad.parts), idleAfterLoad: partsMiB(partsIdleAfterLoad.parts) },
        gatehouseIdleCollections: { idle: partsIdle.idleCollections, afterLoad: partsAfterLoad.idleCollections, idleAfterLoad: partsIdleAfterLoad.idleCollections },
        loadAverageAfterIdle: loadIdle,
      },
      scenarios: summary,
      problems,
    };
    mkdirSync(`${ROOT}bench/results`, { recursive: true });
    const file = `${ROOT}bench/results/vs-keycloak-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

    const out = (text: string) => process.stdout.write(`${text}\n`);
    out(`\nMachine: ${JSON.stringify(result.machine)}`);
    out(table(
      ['scenario', 'Gatehouse /s', 'Keycloak /s', 'Gatehouse ÷ Keycloak', 'Gatehouse p50 / p99 ms', 'Keycloak p50 / p99 ms', 'errors G / K'],
      summary.map((row) => [row.scenario, row.gatehousePerSecond, row.keycloakPerSecond, row.ratio, `${row.gatehouseP50Ms} / ${row.gatehouseP99Ms}`, `${row.keycloakP50Ms} / ${row.keycloakP99Ms}`, `${row.errors.gatehouse} / ${row.errors.keycloak}${'note' in row ? ` (${row.note})` : ''}`]),
    ));
    out(`Hashing: Gatehouse ${result.hashing.gatehouse} (${result.hashing.gatehouseHashMs} ms, limit ${result.hashing.gatehouseHashLimitPerSecond}/s, sign-ins at ${result.hashing.gatehouseSignInsToHashLimit}×; by a hash's CPU, ${result.hashing.gatehouseHashCpuMs} ms: ${result.hashing.gatehouseSignInsToHashLimitByCpu}×); Keycloak ${result.hashing.keycloak} (${result.hashing.keycloakHashMs} ms, limit ${result.hashing.keycloakHashLimitPerSecond}/s, sign-ins at ${result.hashing.keycloakSignInsToHashLimit}×; by a hash's CPU, ${result.hashing.keycloakHashCpuMs} ms: ${result.hashing.keycloakSignInsToHashLimitByCpu}×)`);
    out(`Memory (MiB): Gatehouse ${result.memoryMiB.gatehouseIdle} idle → ${result.memoryMiB.gatehouseAfterLoad} right after the load → ${result.memoryMiB.gatehouseIdleAfterLoad} after ${IDLE_WAIT_SECONDS} s idle (${result.memoryMiB.gatehouseIdleAfterOverBefore}× of cold idle); Keycloak ${result.memoryMiB.keycloakIdle} → ${result.memoryMiB.keycloakAfterLoad} → ${result.memoryMiB.keycloakIdleAfterLoad}`);
    out(`Gatehouse's memory (idle collections so far: ${partsIdle.idleCollections} → ${partsAfterLoad.idleCollections} → ${partsIdleAfterLoad.idleCollections}; load average after the idle wait ${loadIdle.join(' ')}):`);
    out(partsTable([['idle', partsIdle.parts], ['right after the load', partsAfterLoad.parts], [`after ${IDLE_WAIT_SECONDS} s idle`, partsIdleAfterLoad.parts]]));
    out(`Start to ready: Gatehouse ${result.startToReadyMs.gatehouse} ms, Keycloak ${result.startToReadyMs.keycloakFirstStart} ms (first start, new database)`);
    out(`Load average: ${loadBefore.join(' ')} before, ${loadAfter.join(' ')} after (${result.machine.nproc} cores)`);
    if (problems.length > 0) out(`\nProblems:\n${problems.map((problem) => `- ${problem}`).join('\n')}`);
    out(`\nJSON: ${file}`);
  } finally {
    for (const child of children.reverse()) await child.stop();
    benchServices('down');
  }
}

await main();
