import { request } from 'node:http';
import { expect } from 'chai';
import { serveMain } from '../helpers/process.ts';
import { databaseForSuite, randomSecret, serviceUrls } from '../helpers/stores.ts';

describe('the production process (node src/main.ts)', () => {
  const database = databaseForSuite('process');

  it('starts, serves discovery, and exits 0 on SIGTERM even with an idle keep-alive connection open', async function () {
    this.timeout(120_000);
    const server = await serveMain({
      // A shutdown timeout far beyond any slowness of the machine: only closing the idle connection lets it end sooner.
      GATEHOUSE_SHUTDOWN_TIMEOUT: '300',
      NODE_ENV: 'production',
      GATEHOUSE_ISSUER: 'https://sso.example.com',
      PORT: '0',
      HOST: '127.0.0.1',
      MONGODB_URI: database.uri,
      REDIS_URL: serviceUrls().redisUrl,
      GATEHOUSE_SECRET: randomSecret(),
    });
    const agent = new (await import('node:http')).Agent({ keepAlive: true });
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request(`${server.url}/.well-known/openid-configuration`, { agent }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
      })
        .on('error', reject)
        .end();
    });
    expect(status).to.equal(200);
    const started = Date.now();
    const code = await server.stop('SIGTERM');
    expect(code, server.output()).to.equal(0);
    expect(Date.now() - started, 'idle connections must not hold shutdown for the full timeout').to.be.below(60_000);
    expect(server.output()).to.include('"msg":"shutdown complete"');
    agent.destroy();
  });
});
