/**
 * node bench/edge-cost.ts [--build name=path/to/dist ...] [--level warn|info] [--requests N] [--rounds N]
 *
 * What the request edge (src/http/edge.ts: request id, access log hook and metrics, security
 * headers, async context, error mapper) costs a JSON answer, with Koa's response around it, A/B
 * in one process: each build's `requestEdge` in front of a Koa app that answers userinfo's JSON
 * as the library does (Vary, CORS, no-store, a 188-byte body), driven without sockets (a fresh
 * IncomingMessage and ServerResponse per request on one socket, the response closed after Koa answered, so the
 * access log's close listener runs) — the same Koa and Node code paths as a served request, minus
 * the network and the library. Rounds alternate the builds; each prints the median CPU time per
 * request of its rounds (process.cpuUsage: all threads, the garbage collector's included) and the
 * bytes its V8 heap allocated per request. `--build name=dir` names a `dist` directory (default:
 * `now=dist`; an older build's dist copied or checked out elsewhere, with its node_modules);
 * `--edge oauth-endpoints` builds the edge as the provider runs it for the OAuth endpoints (builds
 * without that option ignore it). A loaded machine moves every round alike; read the ratio.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({ options: { build: { type: 'string', multiple: true }, level: { type: 'string' }, requests: { type: 'string' }, rounds: { type: 'string' }, edge: { type: 'string' } } });
const ROOT = new URL('..', import.meta.url).pathname;
const builds = (flags.build ?? ['now=dist']).map((entry) => {
  const [name, dir] = entry.split('=') as [string, string];
  return { name, dir: dir.startsWith('/') ? dir : `${ROOT}${dir}` };
});
const LEVEL = flags.level ?? 'warn';
const REQUESTS = Number(flags.requests ?? 20_000);
const ROUNDS = Number(flags.rounds ?? 9);
const BODY = JSON.stringify({ sub: 'u'.repeat(24), email: 'someone@example.com', email_verified: true, name: 'Some One', preferred_username: 'someone', roles: ['user'], groups: ['staff'], updated_at: 1764600000, locale: 'en' }).slice(0, 188);

/** Bytes allocated in the young generation while `run` ran (what bench/lib/allocation-probe.ts counts): Σ over collections of used before it − used after the one before, plus the rest. */
async function youngAllocated(run: () => Promise<void>): Promise<number> {
  const YOUNG = new Set(['new_space', 'new_large_object_space']);
  const used = (spaces: ReadonlyArray<{ spaceName: string; spaceUsedSize: number }>) => spaces.reduce((sum, space) => sum + (YOUNG.has(space.spaceName) ? space.spaceUsedSize : 0), 0);
  const usedNow = () => used(v8.getHeapSpaceStatistics().map((space) => ({ spaceName: space.space_name, spaceUsedSize: space.space_used_size })));
  const profiler = new v8.GCProfiler();
  let last = usedNow();
  profiler.start();
  await run();
  const end = usedNow();
  let allocated = 0;
  for (const gc of profiler.stop()?.statistics ?? []) {
    allocated += Math.max(0, used(gc.beforeGC.heapSpaceStatistics) - last);
    last = used(gc.afterGC.heapSpaceStatistics);
  }
  return allocated + Math.max(0, end - last);
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

async function handlerOf(dir: string): Promise<Handler> {
  const { requestEdge } = (await import(`${dir}/http/edge.js`)) as { requestEdge: (options: Record<string, unknown>) => (ctx: unknown, next: () => Promise<void>) => Promise<void> };
  const { gatehouseRoutes } = (await import(`${dir}/routes/table.js`)) as { gatehouseRoutes: (url: string) => unknown };
  const { createLogger } = (await import(`${dir}/observability/logger.js`)) as { createLogger: (level: string, destination: unknown) => unknown };
  const { default: pino } = (await import(`${dir}/../node_modules/pino/pino.js`)) as { default: { destination: (path: string) => unknown } };
  const { default: Koa } = (await import(`${dir}/../node_modules/koa/lib/application.js`)) as { default: new () => { use(middleware: unknown): void; callback(): Handler } };
  const issuer = 'http://127.0.0.1:3000';
  const app = new Koa();
  const observed = { count: 0 };
  app.use(
    requestEdge({
      issuer,
      routes: gatehouseRoutes(issuer),
      logger: createLogger(LEVEL, pino.destination('/dev/null')),
      observeRequest: () => void (observed.count += 1),
      serves: flags.edge,
    }),
  );
  // What the library's userinfo answer adds (lib/shared/cors.js, lib/actions/userinfo.js).
  app.use((ctx: { vary(field: string): void; set(field: string, value: string): void; type: string; body: string }) => {
    ctx.vary('Origin');
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Access-Control-Expose-Headers', 'DPoP-Nonce,WWW-Authenticate');
    ctx.set('cache-control', 'no-store');
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = BODY;
  });
  return app.callback();
}

/** One connection for every request, as a kept-alive one (a socket per request would be a cost no served request has). */
const socket = new Socket();
async function serve(handler: Handler): Promise<void> {
  const req = new IncomingMessage(socket);
  req.method = 'GET';
  req.url = '/me';
  req.headers = { host: '127.0.0.1:3000', authorization: 'Bearer abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', accept: '*/*' };
  const res = new ServerResponse(req);
  await handler(req, res);
  res.emit('close');
}

const handlers = await Promise.all(builds.map(async (build) => ({ ...build, handler: await handlerOf(build.dir) })));
const results = new Map<string, { cpu: number[]; bytes: number[] }>(builds.map((build) => [build.name, { cpu: [], bytes: [] }]));
for (let round = 0; round < ROUNDS + 1; round += 1) {
  for (const { name, handler } of round % 2 === 0 ? handlers : [...handlers].reverse()) {
    const before = process.cpuUsage();
    const bytes = await youngAllocated(async () => {
      for (let index = 0; index < REQUESTS; index += 1) await serve(handler);
    });
    const used = process.cpuUsage(before);
    // The first round is the JIT's warm-up.
    if (round === 0) continue;
    results.get(name)!.cpu.push((used.user + used.system) / REQUESTS);
    results.get(name)!.bytes.push(bytes / REQUESTS);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const first = builds[0]!.name;
process.stdout.write(`edge + Koa's response, ${REQUESTS} requests a round, ${ROUNDS} rounds, log level ${LEVEL}${flags.edge === undefined ? '' : `, edge ${flags.edge}`}:\n`);
process.stdout.write('| build | CPU µs/req (median) | ÷ first | heap allocated B/req (median) |\n|---|---|---|---|\n');
for (const { name } of builds) {
  const { cpu, bytes } = results.get(name)!;
  process.stdout.write(`| ${name} | ${median(cpu).toFixed(2)} | ${(median(cpu) / median(results.get(first)!.cpu)).toFixed(3)} | ${Math.round(median(bytes))} |\n`);
}
