import { createServer, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import { runMain, serveMain } from '../helpers/process.ts';
import { freePort } from '../helpers/redis-server.ts';
import { databasesForSuite, randomSecret, serviceUrls } from '../helpers/stores.ts';

describe('the startup log of the production process', () => {
  const database = databasesForSuite();
  const env = (mongodbUri: string) => ({
    NODE_ENV: 'production',
    GATEHOUSE_ISSUER: 'https://sso.example.com',
    PORT: '0',
    HOST: '127.0.0.1',
    MONGODB_URI: mongodbUri,
    GATEHOUSE_SECRET: randomSecret(),
  });

  it('has no warnings and no stack traces; a server without TTL indexes (FerretDB) is one info line', async () => {
    // A first start: a new database, whose collections and indexes this start creates.
    const server = await serveMain({ ...env(database('startuplog', { fresh: true })), REDIS_URL: serviceUrls().redisUrl });
    await server.stop();
    const lines = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string; err?: unknown });
    expect(lines.filter((line) => ['warn', 'error', 'fatal'].includes(line.level)), 'warnings or errors at a clean start').to.deep.equal([]);
    expect(server.output()).to.not.include('"stack"');
    const ttl = lines.filter((line) => /TTL/.test(line.msg));
    const ferret = server.output().includes('no TTL indexes');
    // On real MongoDB there is nothing to say; on FerretDB exactly one info line.
    if (ferret) expect(ttl.map((line) => [line.level, line.err])).to.deep.equal([['info', undefined]]);
    else expect(ttl).to.deep.equal([]);
  });

  it('names the address it is bound to: a wildcard host as such (not as 127.0.0.1), the metrics port too; a mistyped setting is a warning naming the one meant', async () => {
    const metricsPort = await freePort();
    const server = await serveMain({
      ...env(database('startuplog_bound')),
      HOST: '0.0.0.0',
      GATEHOUSE_METRICS_PORT: String(metricsPort),
      REDIS_URL: serviceUrls().redisUrl,
      GATEHOUSE_TRUST_PROXIES: 'true',
    });
    await server.stop();
    const lines = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string; listening?: string; metrics?: string });
    const ready = lines.find((line) => line.msg === 'gatehouse ready');
    expect(ready?.listening).to.match(/^http:\/\/0\.0\.0\.0:\d+$/);
    expect(ready?.metrics).to.equal(`http://0.0.0.0:${metricsPort}/metrics`);
    expect(lines.filter((line) => line.level === 'warn').map((line) => line.msg)).to.deep.equal([
      'GATEHOUSE_TRUST_PROXIES: not a setting, ignored (did you mean GATEHOUSE_TRUST_PROXY?)',
    ]);
  });

  it('names the Redis address (never its credentials) and the reason when Redis is unreachable', async () => {
    const exit = await runMain({ ...env(database('startuplog_redis')), REDIS_URL: 'redis://someone:hunter2-redis-password@127.0.0.1:1/0' });
    expect(exit.code).to.equal(1);
    expect(exit.stderr).to.match(/^gatehouse: REDIS_URL: cannot connect to Redis at 127\.0\.0\.1:1 \(connect ECONNREFUSED 127\.0\.0\.1:1\)\n$/m);
    expect(exit.stderr + exit.stdout).to.not.include('hunter2');
  });

  it('a port something else listens on: one line naming PORT and the port, exit 1 (npm run dev stops on it)', async function () {
    // A first start on a new database: its indexes are created before the bind.
    this.timeout(120_000);
    const busy = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      busy.once('error', reject);
      busy.listen(0, '127.0.0.1', () => resolve((busy.address() as AddressInfo).port));
    });
    try {
      const exit = await runMain({ ...env(database('startuplog_port')), PORT: String(port) });
      expect(exit.code).to.equal(1);
      expect(exit.stderr).to.match(new RegExp(`^gatehouse: PORT: ${port} on 127\\.0\\.0\\.1 is already in use \\(another Gatehouse or npm run dev\\?\\); choose another port\n$`, 'm'));
      expect(exit.stderr + exit.stdout, 'no stack trace, no fatal log line').to.not.include('"stack"').and.not.include('startup failed');
    } finally {
      busy.close();
    }
  });
});
