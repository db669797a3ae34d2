import { request } from 'node:http';
import { expect } from 'chai';
import { runCli, runMain, serveMain, type ServingProcess } from '../helpers/process.ts';
import { within } from '../helpers/poll.ts';
import { databaseForSuite, randomSecret, serviceUrls } from '../helpers/stores.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const API = 'https://inventory.example.com';

interface LogLine {
  readonly msg: string;
  readonly worker?: number;
  readonly workerId?: number;
  readonly pid?: number;
  readonly requestId?: string;
  readonly route?: string;
  readonly workers?: number;
  readonly time?: string;
}

function logLines(server: ServingProcess): LogLine[] {
  return server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/**
 * One request on a connection of its own (a connection, not a request, goes to one worker: the
 * first to take it from the shared listening socket); resolves with the status, body and the
 * request id the server echoed.
 */
function once(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string; requestId: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), requestId: String(incoming.headers['x-request-id']) }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

describe('GATEHOUSE_WORKERS=2: one instance, two worker processes (real processes and stores)', function () {
  this.timeout(240_000);
  const database = databaseForSuite('workers');
  const secret = randomSecret();
  const env = (extra: Record<string, string> = {}) => ({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    MONGODB_URI: database.uri,
    REDIS_URL: serviceUrls().redisUrl,
    GATEHOUSE_REDIS_PREFIX: `workers-${secret.slice(0, 8)}:`,
    GATEHOUSE_SECRET: secret,
    ...extra,
  });
  let server: ServingProcess | undefined;
  let basic: string;

  before(async () => {
    const api = await runCli(['apis', 'create', '--identifier', API, '--scope', 'stock:read', '--json'], env());
    expect(api.code, api.stderr).to.equal(0);
    const created = await runCli(['clients', 'create', '--name', 'Stock sync', '--type', 'confidential', '--grant-type', 'client_credentials', '--api', API, '--json'], env());
    expect(created.code, created.stderr).to.equal(0);
    const { client_id: clientId, client_secret: clientSecret } = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
    basic = clientSecretBasic(clientId, clientSecret);
    server = await serveMain(env({ GATEHOUSE_WORKERS: '2' }));
  });
  after(async () => {
    await server?.stop('SIGKILL');
  });

  /** Which worker wrote the request log line of this request id (waits for the line). */
  async function servedBy(requestId: string): Promise<number> {
    let worker: number | undefined;
    await within(20_000, async () => {
      worker = logLines(server!).find((line) => line.msg === 'request' && line.requestId === requestId)?.worker;
      return worker !== undefined;
    });
    return worker!;
  }

  const token = () => once(`${server!.url}/token`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=stock%3Aread' });
  const introspect = (accessToken: string) =>
    once(`${server!.url}/token/introspection`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(accessToken)}` });

  it('the supervisor says "gatehouse ready" once, for both workers; every line names its worker (0 = the supervisor)', async () => {
    // A worker's own "worker ready" line travels through its stdout pipe, the supervisor's
    // "gatehouse ready" follows its IPC message: the second can be read before the first.
    const workersReady = () => logLines(server!).filter((line) => line.msg === 'worker ready' && line.worker !== 0).length;
    await within(20_000, async () => workersReady() >= 2);
    const lines = logLines(server!);
    const ready = lines.filter((line) => line.msg === 'gatehouse ready');
    expect(ready.map((line) => [line.worker, line.workers])).to.deep.equal([[0, 2]]);
    expect(lines.filter((line) => line.msg === 'worker ready' && line.worker !== 0).map((line) => line.worker).sort()).to.deep.equal([1, 2]);
    expect(lines.every((line) => typeof line.worker === 'number'), 'a line without its worker').to.equal(true);
    // Worker 2 starts only once worker 1 is ready (it bootstrapped the stores alone). By the lines'
    // times, not their order: each process writes its log asynchronously (pino), so worker 1's line
    // may reach the shared output after the supervisor's answer to it.
    const at = (test: (line: LogLine) => boolean) => Date.parse(lines.find(test)?.time ?? '');
    expect(at((line) => line.msg === 'worker starting' && line.workerId === 2)).to.be.at.least(at((line) => line.msg === 'worker ready' && line.worker === 1));
  });

  it('serves on both workers: a token one of them issued is active at the other', async () => {
    const issued = new Map<number, string>();
    const introspectedAt: Array<[issuer: number, introspector: number]> = [];
    for (let attempt = 0; attempt < 20 && introspectedAt.length === 0; attempt++) {
      const minted = await token();
      expect(minted.status, minted.body).to.equal(200);
      issued.set(await servedBy(minted.requestId), (JSON.parse(minted.body) as { access_token: string }).access_token);
      for (const [issuer, accessToken] of issued) {
        const answer = await introspect(accessToken);
        expect(answer.status, answer.body).to.equal(200);
        expect(JSON.parse(answer.body)).to.include({ active: true });
        const introspector = await servedBy(answer.requestId);
        if (introspector !== issuer) introspectedAt.push([issuer, introspector]);
      }
    }
    expect(introspectedAt.length, 'no token was introspected at a worker other than its issuer').to.be.greaterThan(0);
    expect(new Set(introspectedAt[0]!)).to.deep.equal(new Set([1, 2]));
  });

  it('/metrics shows the whole instance: the request counter is the sum over both workers', async () => {
    const before = await once(`${server!.url}/metrics`);
    const count = (text: string) => Number(/^gatehouse_http_request_duration_seconds_count\{route="discovery",method="GET",status="200"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    // Each connection goes to whichever worker takes it first from the shared socket: ask until both have answered.
    const servers = new Set<number>();
    let asked = 0;
    while (asked < 6 || (servers.size < 2 && asked < 40)) {
      const discovery = await once(`${server!.url}/.well-known/openid-configuration`);
      asked += 1;
      expect(discovery.status).to.equal(200);
      servers.add(await servedBy(discovery.requestId));
    }
    expect([...servers].sort()).to.deep.equal([1, 2]);
    const after = await once(`${server!.url}/metrics`);
    expect(after.status).to.equal(200);
    expect(count(after.body) - count(before.body)).to.equal(asked);
    expect(after.body).to.match(/^gatehouse_worker_processes 2$/m);
    // Default metrics are the instance's too: one value, not one per worker.
    expect(after.body.match(/^process_resident_memory_bytes /gm)).to.have.length(1);
  });

  it('a killed worker is replaced and the instance keeps serving meanwhile', async () => {
    const starting = logLines(server!).filter((line) => line.msg === 'worker starting' && line.worker === 0);
    const victim = starting.find((line) => line.workerId === 1)!;
    expect(victim.pid).to.be.a('number');
    process.kill(victim.pid!, 'SIGKILL');
    // Once the supervisor has seen the exit, the other worker serves while the replacement starts.
    // (A connection the worker had taken is lost with it, as in any crash; one it had not taken
    // yet goes to the other worker: the next test.)
    await within(20_000, async () => logLines(server!).some((line) => line.worker === 0 && line.msg === 'worker died; replacing it' && line.workerId === 1));
    const during = await token();
    expect(during.status, during.body).to.equal(200);
    await within(60_000, async () => logLines(server!).some((line) => line.worker === 0 && line.msg === 'worker ready' && line.workerId === 3));
    const servers = new Set<number>();
    for (let attempt = 0; attempt < 20 && servers.size < 2; attempt++) {
      const minted = await token();
      expect(minted.status, minted.body).to.equal(200);
      servers.add(await servedBy(minted.requestId));
    }
    expect([...servers].sort()).to.deep.equal([2, 3]);
  });

  it('a connection waiting for a worker is not lost when a worker dies: another one takes it', async () => {
    // Worker 2 is frozen (as a worker stuck in a long task or being killed is): whatever it was
    // handed and has not taken yet would die with it. The connections opened meanwhile must all be
    // answered, by worker 3, also after worker 2 is killed.
    const frozen = logLines(server!).find((line) => line.worker === 0 && line.msg === 'worker starting' && line.workerId === 2)!;
    expect(frozen.pid).to.be.a('number');
    process.kill(frozen.pid!, 'SIGSTOP');
    const answered: number[] = [];
    const requests = Array.from({ length: 4 }, () => token().then((answer) => (answered.push(answer.status), answer)));
    try {
      // With node:cluster's round-robin, worker 2 has been handed one of the first two
      // connections by the time three are answered (it never takes it back).
      await within(60_000, async () => answered.length >= 3);
    } finally {
      process.kill(frozen.pid!, 'SIGKILL');
    }
    const bound = new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`only ${answered.length} of 4 connections answered: one was lost with the killed worker`)), 60_000).unref());
    const answers = await Promise.race([Promise.all(requests), bound]);
    expect(answers.map((answer) => answer.status)).to.deep.equal([200, 200, 200, 200]);
    expect(new Set(await Promise.all(answers.map((answer) => servedBy(answer.requestId))))).to.deep.equal(new Set([3]));
    await within(60_000, async () => logLines(server!).some((line) => line.worker === 0 && line.msg === 'worker ready' && line.workerId === 4));
  });

  it('SIGTERM: every worker drains and the supervisor exits 0', async () => {
    const running = server!;
    server = undefined;
    expect(await running.stop('SIGTERM')).to.equal(0);
    const complete = logLines(running).filter((line) => line.msg === 'shutdown complete');
    expect(complete.map((line) => line.worker).sort()).to.deep.equal([0, 3, 4]);
  });

  it('a worker that finds the configuration wrong (another GATEHOUSE_SECRET for the stored keys) stops the instance with 78', async () => {
    const exit = await runMain(env({ GATEHOUSE_WORKERS: '2', GATEHOUSE_SECRET: randomSecret() }), 90_000);
    expect(exit.code, exit.stderr).to.equal(78);
    expect(exit.stderr).to.match(/^gatehouse: .*GATEHOUSE_SECRET/m);
    expect(exit.stdout).to.not.include('gatehouse ready');
  });

  it('a bad GATEHOUSE_WORKERS stops startup naming the setting', async () => {
    for (const value of ['0', 'many', '1.5']) {
      const exit = await runMain(env({ GATEHOUSE_WORKERS: value }));
      expect(exit.code, value).to.equal(78);
      expect(exit.stderr, value).to.match(/^gatehouse: GATEHOUSE_WORKERS: must be /m);
    }
  });
});
