import { expect } from 'chai';
import { serveMain, type ServingProcess } from '../helpers/process.ts';
import { databaseForSuite, randomSecret, serviceUrls } from '../helpers/stores.ts';

/** The `metrics` field of the "gatehouse ready" log line. */
function readyMetrics(server: ServingProcess): string {
  const line = server.output().split('\n').find((text) => text.includes('"msg":"gatehouse ready"'));
  return (JSON.parse(line!) as { metrics: string }).metrics;
}

describe('/metrics in production is not public by default', function () {
  // Each test starts src/main.ts as a process of its own (serveMain, whose backstop is 90 s): a
  // start is ~1 s of CPU, and two of these three went past mocha's 30 s at load 31.
  this.timeout(120_000);
  const database = databaseForSuite('metrics');
  const secret = randomSecret();
  const production = (settings: Record<string, string>) =>
    serveMain({
      NODE_ENV: 'production',
      GATEHOUSE_ISSUER: 'https://sso.example.com',
      PORT: '0',
      HOST: '127.0.0.1',
      MONGODB_URI: database.uri,
      REDIS_URL: serviceUrls().redisUrl,
      GATEHOUSE_SECRET: secret,
      ...settings,
    });

  it('without GATEHOUSE_METRICS_TOKEN or GATEHOUSE_METRICS_PORT: not served, and the startup log says how to turn it on', async () => {
    const server = await production({});
    try {
      expect((await fetch(`${server.url}/metrics`)).status).to.equal(404);
      expect(readyMetrics(server)).to.equal('not served (set GATEHOUSE_METRICS_PORT or GATEHOUSE_METRICS_TOKEN)');
    } finally {
      await server.stop();
    }
  });

  it('with GATEHOUSE_METRICS_TOKEN: on the main port for the bearer of the token only', async () => {
    const token = randomSecret();
    const server = await production({ GATEHOUSE_METRICS_TOKEN: token });
    try {
      expect((await fetch(`${server.url}/metrics`)).status).to.equal(401);
      const scraped = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(scraped.status).to.equal(200);
      expect(await scraped.text()).to.include('process_resident_memory_bytes');
      expect(readyMetrics(server)).to.equal(`${server.url}/metrics (Authorization: Bearer GATEHOUSE_METRICS_TOKEN)`);
      expect(server.output()).to.not.include(token);
    } finally {
      await server.stop();
    }
  });

  it('with GATEHOUSE_METRICS_PORT: on that port only, and the startup log names it', async () => {
    const server = await production({ GATEHOUSE_METRICS_PORT: '0' });
    try {
      expect((await fetch(`${server.url}/metrics`)).status).to.equal(404);
      const where = readyMetrics(server);
      expect(where).to.match(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(where).to.not.equal(`${server.url}/metrics`);
      expect((await fetch(where)).status).to.equal(200);
    } finally {
      await server.stop();
    }
  });
});
