import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { startInstance } from '../helpers/instance.ts';
import { eventually } from '../helpers/poll.ts';
import { TestRedis } from '../helpers/redis-server.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

async function readiness(gatehouse: RunningGatehouse): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${gatehouse.url}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('readiness follows the backing services', () => {
  const database = databaseForSuite('readiness');
  let redis: TestRedis;
  let gatehouse: RunningGatehouse;

  before(async () => {
    redis = await TestRedis.start();
    gatehouse = await startInstance({ mongodbUri: database.uri, redisUrl: redis.url, secret: randomSecret() });
  });
  after(async () => {
    await gatehouse.close();
    await redis.stop();
  });

  it('is ready with MongoDB and Redis, 503 naming Redis while it is down, ready again after it returns', async () => {
    expect(await readiness(gatehouse)).to.deep.equal({
      status: 200,
      body: { status: 'ok', checks: { mongodb: 'ok', redis: 'ok' } },
    });

    await redis.stop();
    const down = await readiness(gatehouse);
    expect(down.status).to.equal(503);
    expect(down.body).to.deep.equal({ status: 'unavailable', failing: ['redis'], checks: { mongodb: 'ok', redis: 'unavailable' } });
    const health = await fetch(`${gatehouse.url}/healthz`);
    expect(health.status, 'liveness does not depend on Redis').to.equal(200);

    await redis.start();
    const back = await eventually(() => readiness(gatehouse), (result) => result.status === 200);
    expect(back.status).to.equal(200);
  });
});
