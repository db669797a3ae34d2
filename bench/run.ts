/**
 * npm run bench [-- --quick] [--seconds N] [--warmup N] [--connections N] [--sessions N]
 * npm run bench -- --vs-keycloak [...]   (Gatehouse beside Keycloak 26: bench/vs-keycloak.ts)
 *
 * Measures the production build of Gatehouse (MongoDB-wire + Redis) against the library's own
 * ceiling (bench/reference-server.ts) and the machine's password-hash limit, in one run.
 * Prints one table per scenario group and writes bench/results/<timestamp>.json.
 * Never asserts timings: --quick is a smoke test that every scenario runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { OWASP_ARGON2_PARAMS } from '../src/accounts/argon2-params.ts';
import { startGatehouseProcess, startReference, rssBytes, type Child } from './lib/children.ts';
import { basicAuth, type Fixture } from './lib/fixture.ts';
import { completeSignIn, mintRefreshTokens, openSignInForm, postToken, submitSignInForm } from './lib/flows.ts';
import { BenchAgent } from './lib/http-agent.ts';
import { measureHashLimit } from './lib/hash-limit.ts';
import { measureAlternating, preflight, runOnce, type RequestSpec, type Target } from './lib/load.ts';
import { rowSummary, table, type Row } from './lib/report.ts';
import { clientCredentialsRequest, introspectionRequest, refreshRequest, userinfoRequest } from './lib/scenarios.ts';
import { seed } from './lib/seed.ts';
import { benchDatabaseKind, benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { loadSignIns } from './lib/sign-in-load.ts';
import { round } from './lib/stats.ts';
import { collectionUsage, commandCounts, type CommandCounts, gatehouseStoreSettings, measureStorageCeiling, mixHeadline, openStores, perRequest, redisUsage, resetStores, type Stores, watchRedisSent } from './lib/storage.ts';
import { usageOnHelp } from './lib/usage.ts';

// `--vs-keycloak` runs the side-by-side comparison instead (bench/vs-keycloak.ts reads its own flags).
const vsKeycloak = process.argv.slice(2).includes('--vs-keycloak');
usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({
  strict: !vsKeycloak,
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    sessions: { type: 'string' },
    'idle-wait': { type: 'string' },
  },
});
const quick = flags.quick === true;
const SECONDS = Number(flags.seconds ?? (quick ? 2 : 10));
const WARMUP = Number(flags.warmup ?? (quick ? 1 : 3));
const CONNECTIONS = Number(flags.connections ?? (quick ? 8 : 16));
const SESSIONS = Number(flags.sessions ?? (quick ? 100 : 10_000));
const SIGN_IN_CONCURRENCY = 8;
// After the load scenarios: how long Gatehouse idles before its RSS is read again (hash workers exit after 60 s idle).
const IDLE_WAIT_SECONDS = Number(flags['idle-wait'] ?? (quick ? 5 : 70));
// Each token heads a chain (its successor goes back into the pool): enough for the connections; a pool that runs out (errors) is reported.
const POOL = { gatehouse: 256, reference: 256 };
const ROOT = new URL('..', import.meta.url).pathname;
const REDIS_PREFIX = 'gatehouse-bench:';
const CHEAP_HASH = { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' };

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const mb = (bytes: number) => round(bytes / 1024 / 1024);


function machine() {
  const mongoKind = benchDatabaseKind();
  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 1024 ** 3),
    node: process.version,
    database: mongoKind,
    redis: execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim().split(' ').slice(0, 3).join(' '),
  };
}

const clientCredentials = (fixture: Fixture, which: 'rs256' | 'es256' | 'opaque') => clientCredentialsRequest(basicAuth(fixture.clients[which]));
const introspection = (fixture: Fixture, which: 'rs256' | 'opaque', token: string) => introspectionRequest(basicAuth(fixture.clients[which]), token);
const refreshRotation = (fixture: Fixture, pool: string[]) => refreshRequest(basicAuth(fixture.clients.web), pool);

/** Database commands per request, from server-side counters around `count` sequential requests. */
async function commandMix(stores: Stores, url: string, spec: RequestSpec, count: number): Promise<CommandCounts> {
  const before = await commandCounts(stores);
  const sent = await watchRedisSent(stores);
  for (let index = 0; index < count; index += 1) {
    const body = spec.nextBody?.() ?? spec.body;
    await (await fetch(`${url}${spec.path}`, { method: spec.method, headers: spec.headers, ...(body === undefined ? {} : { body }) })).arrayBuffer();
  }
  const redisSent = await sent.stop();
  return perRequest({ ...before }, { ...(await commandCounts(stores)), ...redisSent }, count);
}

async function main() {
  const startedAt = new Date();
  const problems: string[] = [];
  log(`mode: ${quick ? 'quick' : 'full'} (${SECONDS} s per server per scenario, ${WARMUP} s warm-up, ${CONNECTIONS} connections)`);
  const { mongodbUri, redisUrl } = benchServicesUp('gatehouse_bench');
  log('building (npm run build)');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });

  const stores = await openStores(mongodbUri, redisUrl);
  await resetStores(stores, REDIS_PREFIX);
  const settings = gatehouseStoreSettings(mongodbUri, redisUrl, REDIS_PREFIX);
  log('seeding clients, APIs and users through Gatehouse services');
  const fixture = await seed({ settings, users: 16, storageUsers: 16, cheapHashSettings: CHEAP_HASH });
  mkdirSync(`${ROOT}.data/bench`, { recursive: true });
  const fixturePath = `${ROOT}.data/bench/fixture.json`;
  writeFileSync(fixturePath, JSON.stringify(fixture), { mode: 0o600 });

  log('measuring the hash limit (single argon2id hashes, servers not started yet)');
  const hashLimit = await measureHashLimit(OWASP_ARGON2_PARAMS, quick ? 5 : 20);

  const production = async (name: string, args: string[], extra: Record<string, string> = {}) => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn', ...extra };
    return startGatehouseProcess(name, args, env, url);
  };
  log('starting Gatehouse (node dist/main.js), the variant that records client_credentials JWTs at issuance, and the reference');
  const gatehouse = await production('gatehouse', [`${ROOT}dist/main.js`]);
  const variant = await production('gatehouse-recording-jwts', [`${ROOT}bench/gatehouse-recording-jwts.ts`]);
  const reference = await startReference(fixturePath);
  const children: Child[] = [gatehouse, variant, reference];
  const stopAll = () => Promise.all(children.map((child) => child.stop()));
  try {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idleRss = rssBytes(gatehouse.process.pid!);
    const servers = { gatehouse, reference } as const;
    const load = { warmupSeconds: WARMUP, seconds: SECONDS, connections: CONNECTIONS };
    const rows: Row[] = [];
    const target = (child: Child, spec: RequestSpec): Target => ({ key: child.name, url: child.url, spec });
    const pair = async (specs: Record<'gatehouse' | 'reference', RequestSpec>, accept: (body: Record<string, unknown>) => boolean, label: string) => {
      for (const [name, child] of Object.entries(servers)) {
        const problem = await preflight(child.url, specs[name as 'gatehouse'], accept);
        if (problem !== undefined) problems.push(`${label} on ${name}: ${problem}`);
      }
      const mix = await commandMix(stores, gatehouse.url, specs.gatehouse, 20);
      const measured = await measureAlternating([target(gatehouse, specs.gatehouse), target(reference, specs.reference)], load);
      return { gatehouse: measured.gatehouse!, reference: measured.reference!, mix };
    };
    const isToken = (body: Record<string, unknown>) => typeof body.access_token === 'string';
    const isActive = (body: Record<string, unknown>) => body.active === true;

    // (a) client_credentials → JWT; the variant also records each JWT at issuance (shape (a) of docs/ARCHITECTURE.md)
    for (const alg of ['rs256', 'es256'] as const) {
      log(`(a) client_credentials → JWT ${alg.toUpperCase()}`);
      const spec = clientCredentials(fixture, alg);
      for (const child of [gatehouse, variant, reference]) {
        const problem = await preflight(child.url, spec, isToken);
        if (problem !== undefined) problems.push(`(a) ${alg} on ${child.name}: ${problem}`);
      }
      const mix = await commandMix(stores, gatehouse.url, spec, 20);
      const measured = await measureAlternating([target(gatehouse, spec), target(variant, spec), target(reference, spec)], load);
      const derived = measured.gatehouse!;
      const recording = measured['gatehouse-recording-jwts']!;
      rows.push({
        scenario: `(a) client_credentials → JWT ${alg.toUpperCase()}`,
        gatehouse: derived,
        reference: measured.reference,
        extra: {
          recordingAtIssuanceRps: round(recording.rps),
          recordingAtIssuanceRatio: round(recording.rps / measured.reference!.rps, 2),
          recordAtIssuanceCost: `${round((1 - recording.rps / derived.rps) * 100)}% of throughput`,
          storageCommandsPerRequest: mix,
        },
      });
    }

    log('(b) client_credentials → opaque');
    const opaqueSpec = clientCredentials(fixture, 'opaque');
    let measured = await pair({ gatehouse: opaqueSpec, reference: opaqueSpec }, isToken, '(b)');
    rows.push({ scenario: '(b) client_credentials → opaque', gatehouse: measured.gatehouse!, reference: measured.reference, extra: { storageCommandsPerRequest: measured.mix } });

    log('(c) introspection');
    const tokens = async (url: string, which: 'opaque' | 'rs256') =>
      (await postToken(url, fixture.clients[which], { grant_type: 'client_credentials', scope: 'read' })).access_token;
    const opaque = { gatehouse: await tokens(gatehouse.url, 'opaque'), reference: await tokens(reference.url, 'opaque') };
    const opaqueIntrospection = { gatehouse: introspection(fixture, 'opaque', opaque.gatehouse), reference: introspection(fixture, 'opaque', opaque.reference) };
    measured = await pair(opaqueIntrospection, isActive, '(c) opaque');
    rows.push({ scenario: '(c) introspection of an opaque token', gatehouse: measured.gatehouse!, reference: measured.reference, extra: { storageCommandsPerRequest: measured.mix } });
    const jwtIntrospection = introspection(fixture, 'rs256', await tokens(gatehouse.url, 'rs256'));
    const jwtProblem = await preflight(gatehouse.url, jwtIntrospection, isActive);
    if (jwtProblem !== undefined) problems.push(`(c) JWT introspection on gatehouse: ${jwtProblem}`);
    const jwtMix = await commandMix(stores, gatehouse.url, jwtIntrospection, 20);
    const jwtMeasured = await measureAlternating([target(gatehouse, jwtIntrospection), target(reference, opaqueIntrospection.reference)], load);
    rows.push({
      scenario: '(c) introspection of a JWT',
      gatehouse: jwtMeasured.gatehouse!,
      reference: jwtMeasured.reference,
      extra: { storageCommandsPerRequest: jwtMix },
      referenceNote: 'oidc-provider rejects JWTs at introspection; reference = its opaque introspection',
    });

    log(`(d) refresh-token rotation: minting ${POOL.gatehouse} + ${POOL.reference} refresh tokens`);
    const user = fixture.users[0]!;
    const pools = {
      gatehouse: await mintRefreshTokens(gatehouse.url, fixture.clients.web, user, POOL.gatehouse),
      reference: await mintRefreshTokens(reference.url, fixture.clients.web, user, POOL.reference),
    };
    const refresh = await pair(
      { gatehouse: refreshRotation(fixture, pools.gatehouse), reference: refreshRotation(fixture, pools.reference) },
      isToken,
      '(d)',
    );
    const refreshSample = (await stores.db.collection('oidc_refresh_token').findOne()) ?? {};
    const refreshCeiling = await measureStorageCeiling(stores, refresh.mix, refreshSample, SECONDS / 2, CONNECTIONS);
    rows.push({
      scenario: '(d) refresh-token rotation',
      gatehouse: refresh.gatehouse!,
      reference: refresh.reference,
      extra: {
        storageCommandsPerRequest: refresh.mix,
        storageCeilingRps: round(refreshCeiling.replaysPerSecond),
        ratioToStorageCeiling: round(refresh.gatehouse!.rps / refreshCeiling.replaysPerSecond, 2),
      },
    });

    log('(e) userinfo');
    const signedIn = {
      gatehouse: await completeSignIn(gatehouse.url, fixture.clients.web, user),
      reference: await completeSignIn(reference.url, fixture.clients.web, user),
    };
    measured = await pair(
      { gatehouse: userinfoRequest(signedIn.gatehouse.access_token), reference: userinfoRequest(signedIn.reference.access_token) },
      (body) => typeof body.sub === 'string',
      '(e)',
    );
    rows.push({ scenario: '(e) userinfo', gatehouse: measured.gatehouse!, reference: measured.reference, extra: { storageCommandsPerRequest: measured.mix } });

    log('(f) complete sign-ins (argon2id at the configured parameters) with a token-endpoint probe');
    const probeSpec = clientCredentials(fixture, 'rs256');
    const probeIdle = await runOnce(target(gatehouse, probeSpec), Math.max(2, SECONDS / 2), 2);
    // "A sign-in" in the command mix: from the form POST to the tokens (the page before it is not counted).
    const signInTotals: CommandCounts = {};
    for (const signInUser of fixture.users.slice(0, 4)) {
      const agent = new BenchAgent();
      const opened = await openSignInForm(gatehouse.url, fixture.clients.web, agent);
      const before = await commandCounts(stores);
      const sent = await watchRedisSent(stores);
      await submitSignInForm(gatehouse.url, fixture.clients.web, signInUser, agent, opened);
      const redisSent = await sent.stop();
      for (const [name, value] of Object.entries(perRequest(before, { ...(await commandCounts(stores)), ...redisSent }, 1))) {
        signInTotals[name] = (signInTotals[name] ?? 0) + value;
      }
    }
    const signInMix = perRequest({}, signInTotals, 4);
    const signInSeconds = Math.max(3, SECONDS);
    const [signIns, probeBusy] = await Promise.all([
      loadSignIns(gatehouse.url, fixture.clients.web, fixture.users, signInSeconds, SIGN_IN_CONCURRENCY),
      runOnce(target(gatehouse, probeSpec), signInSeconds, 2),
    ]);
    const referenceSignIns = await loadSignIns(reference.url, fixture.clients.web, fixture.users, Math.max(2, SECONDS / 2), SIGN_IN_CONCURRENCY);
    const sessionSample = (await stores.db.collection('oidc_session').findOne({ sessionId: { $exists: false } })) ?? {};
    const signInCeiling = await measureStorageCeiling(stores, signInMix, sessionSample, SECONDS / 2, SIGN_IN_CONCURRENCY);
    if (signIns.firstError !== undefined) problems.push(`(f) sign-in on gatehouse: ${signIns.firstError}`);
    const signInRow = {
      signInsPerSecond: round(signIns.perSecond),
      p50Ms: round(signIns.p50Ms),
      p99Ms: round(signIns.p99Ms),
      errors: signIns.errors,
      concurrency: SIGN_IN_CONCURRENCY,
      hashLimitPerSecond: round(hashLimit.perSecond),
      medianHashMs: round(hashLimit.medianHashMs),
      cores: hashLimit.cores,
      ratioToHashLimit: round(signIns.perSecond / hashLimit.perSecond, 2),
      // The same limit by a hash's CPU time (holds on a loaded machine, where a hash's wall time grows).
      hashCpuMs: round(hashLimit.cpuMsPerHash, 2),
      hashLimitByCpuPerSecond: round(hashLimit.perSecondByCpu),
      ratioToHashLimitByCpu: round(signIns.perSecond / hashLimit.perSecondByCpu, 2),
      referenceSignInsPerSecond: round(referenceSignIns.perSecond),
      referenceNote: 'reference sign-ins finish the interaction without a password hash or pages',
      storageCommandsPerSignIn: signInMix,
      storageCeilingPerSecond: round(signInCeiling.replaysPerSecond),
      ratioToStorageCeiling: round(signIns.perSecond / signInCeiling.replaysPerSecond, 2),
      tokenEndpointP99IdleMs: probeIdle.latency.p99,
      tokenEndpointP99DuringSignInsMs: probeBusy.latency.p99,
      tokenEndpointRpsDuringSignIns: round(probeBusy.requests.total / probeBusy.duration),
      tokenEndpointErrorsDuringSignIns: probeBusy.errors + probeBusy.non2xx + probeBusy.timeouts,
    };

    log(`idle memory: waiting ${IDLE_WAIT_SECONDS} s without requests`);
    const rssAfterLoad = rssBytes(gatehouse.process.pid!);
    await new Promise((resolve) => setTimeout(resolve, IDLE_WAIT_SECONDS * 1000));
    const idleRssAfterLoad = rssBytes(gatehouse.process.pid!);
    await gatehouse.stop();
    await variant.stop();
    log(`(g) storage: ${SESSIONS} sessions through a Gatehouse with cheap argon2 parameters`);
    const storageServer = await production('gatehouse-storage', [`${ROOT}dist/main.js`], CHEAP_HASH);
    children.push(storageServer);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rssBefore = rssBytes(storageServer.process.pid!);
    let created = 0;
    let failed = 0;
    const sessionWorker = async () => {
      while (created + failed < SESSIONS) {
        created += 1;
        try {
          await completeSignIn(storageServer.url, fixture.clients.web, fixture.storageUsers[created % fixture.storageUsers.length]!);
        } catch (error) {
          created -= 1;
          failed += 1;
          if (failed === 1) problems.push(`(g) sign-in: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    };
    const sessionsStarted = performance.now();
    await Promise.all(Array.from({ length: 16 }, sessionWorker));
    const sessionSeconds = (performance.now() - sessionsStarted) / 1000;
    const rssAfter = rssBytes(storageServer.process.pid!);
    const storage = {
      sessionsCreated: created,
      sessionsFailed: failed,
      // Sessions, not their uid copies (src/storage/oidc/mongo-documents.ts).
      sessionsInDatabase: await stores.db.collection('oidc_session').countDocuments({ sessionId: { $exists: false } }),
      sessionSignInsPerSecond: round(created / sessionSeconds),
      session: await collectionUsage(stores.db, 'oidc_session', 2),
      grant: await collectionUsage(stores.db, 'oidc_grant'),
      refreshToken: await collectionUsage(stores.db, 'oidc_refresh_token'),
      redis: await redisUsage(stores.redis, REDIS_PREFIX),
      rssBeforeMiB: mb(rssBefore),
      rssAfterMiB: mb(rssAfter),
      storageServerStartToReadyMs: Math.round(storageServer.startToReadyMs),
    };

    const summary = rows.map(rowSummary);
    const result = {
      startedAt: startedAt.toISOString(),
      mode: quick ? 'quick' : 'full',
      settings: { seconds: SECONDS, warmupSeconds: WARMUP, connections: CONNECTIONS, sessions: SESSIONS, argon2: OWASP_ARGON2_PARAMS },
      machine: machine(),
      startup: { startToReadyMs: Math.round(gatehouse.startToReadyMs), idleRssMiB: mb(idleRss), referenceStartMs: Math.round(reference.startToReadyMs) },
      memory: {
        idleRssBeforeLoadMiB: mb(idleRss),
        rssRightAfterLoadMiB: mb(rssAfterLoad),
        idleRssAfterLoadMiB: mb(idleRssAfterLoad),
        idleWaitSeconds: IDLE_WAIT_SECONDS,
        afterOverBefore: round(idleRssAfterLoad / idleRss, 2),
      },
      scenarios: summary,
      signIns: signInRow,
      storage,
      problems,
    };
    mkdirSync(`${ROOT}bench/results`, { recursive: true });
    const file = `${ROOT}bench/results/${startedAt.toISOString().replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

    const out = (text: string) => process.stdout.write(`${text}\n`);
    out(`\nMachine: ${JSON.stringify(result.machine)}`);
    out(`Startup: start→ready ${result.startup.startToReadyMs} ms, idle RSS ${result.startup.idleRssMiB} MiB\n`);
    const headlineOf = (row: { storageCommandsPerRequest?: CommandCounts }) => mixHeadline(row.storageCommandsPerRequest ?? {});
    out(table(
      ['scenario', 'req/s', 'ratio', 'MongoDB reads/op', 'MongoDB writes/op', 'Redis commands/op', '(+ run in scripts)', 'p50 ms', 'p99 ms', 'errors', 'reference req/s', 'recording at issuance'],
      summary.map((row) => {
        const head = headlineOf(row as { storageCommandsPerRequest?: CommandCounts });
        return [row.scenario, row.rps, row.ratio, head.mongoReads, head.mongoWrites, head.redisSent, head.redisInScripts, row.p50Ms, row.p99Ms, row.errors, row.referenceRps, (row as { recordingAtIssuanceRps?: number }).recordingAtIssuanceRps];
      }),
    ));
    const refreshRow = summary.find((row) => row.scenario.startsWith('(d)')) as { storageCeilingRps?: number; ratioToStorageCeiling?: number } | undefined;
    out(`(d) storage ceiling ${refreshRow?.storageCeilingRps} replays/s → Gatehouse at ${refreshRow?.ratioToStorageCeiling}× of it`);
    for (const row of summary as Array<{ scenario: string; storageCommandsPerRequest?: CommandCounts }>) {
      if (row.storageCommandsPerRequest !== undefined) out(`  ${row.scenario}: ${JSON.stringify(row.storageCommandsPerRequest)}`);
    }
    out('');
    const signInHead = mixHeadline(signInRow.storageCommandsPerSignIn);
    out(table(
      ['(f) sign-ins', 'per s', 'MongoDB reads/op', 'MongoDB writes/op', 'Redis commands/op', '(+ run in scripts)', 'p50 ms', 'p99 ms', 'errors', 'hash limit /s', 'ratio', 'ratio by hash CPU', 'storage ceiling /s', 'token p99 idle → busy ms'],
      [[`${signInRow.concurrency} users`, signInRow.signInsPerSecond, signInHead.mongoReads, signInHead.mongoWrites, signInHead.redisSent, signInHead.redisInScripts, signInRow.p50Ms, signInRow.p99Ms, signInRow.errors, signInRow.hashLimitPerSecond, signInRow.ratioToHashLimit, signInRow.ratioToHashLimitByCpu, signInRow.storageCeilingPerSecond, `${signInRow.tokenEndpointP99IdleMs} → ${signInRow.tokenEndpointP99DuringSignInsMs}`]],
    ));
    out(`Memory: idle RSS ${result.memory.idleRssBeforeLoadMiB} MiB before the load, ${result.memory.rssRightAfterLoadMiB} MiB right after it, ${result.memory.idleRssAfterLoadMiB} MiB after ${IDLE_WAIT_SECONDS} s idle (${result.memory.afterOverBefore}× of before)`);
    out('');
    out(table(
      ['(g) storage', 'records/keys', 'BSON bytes/record', 'stored bytes/record', 'index bytes/record'],
      [
        ...(['session', 'grant', 'refreshToken'] as const).map((name) => [name, storage[name].documents, round(storage[name].bsonBytesPerDocument, 0), round(storage[name].storedBytesPerDocument, 0), round(storage[name].indexBytesPerDocument, 0)]),
        ...Object.entries(storage.redis).map(([name, usage]) => [`redis ${name}`, usage.keys, round(usage.bytesPerKey, 0), '—', '—']),
      ],
    ));
    out(`RSS ${storage.rssBeforeMiB} MiB → ${storage.rssAfterMiB} MiB after ${storage.sessionsCreated} sign-ins (${storage.sessionSignInsPerSecond}/s)`);
    if (problems.length > 0) out(`\nProblems:\n${problems.map((problem) => `- ${problem}`).join('\n')}`);
    out(`\nJSON: ${file}`);
  } finally {
    await stopAll();
    await stores.close();
    benchServices('down');
  }
}

if (vsKeycloak) await import('./vs-keycloak.ts');
else await main();
