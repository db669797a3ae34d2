import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { SignInsInFlightError } from '../../src/accounts/errors.ts';
import { createLoginLimiter } from '../../src/accounts/login-limiter.ts';
import type { LoginLimiter } from '../../src/accounts/login-limiter-types.ts';
import { dateClock } from '../../src/clock.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { randomIp } from '../helpers/accounts.ts';
import { testClock } from '../helpers/clock.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';

/**
 * A sign-in refused 503 after waiting for a place (docs/ACCOUNTS.md: busy refusals are metrics,
 * not audit events) reaches a running instance's /metrics. The places are held by attempts of
 * "another instance" (a limiter on the same stores) that never end; the instance's clock is
 * frozen, and moved past the wait's bound.
 */
describe('busy sign-ins in the metrics (a running instance)', () => {
  const clock = testClock({ frozen: true });
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let mongo: Connection;
  let redis: Redis;
  let elsewhere: LoginLimiter;

  before(async () => {
    deploy = await deployment('sign_in_waits', { clock });
    gatehouse = await deploy.start();
    mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    redis = await connectRedis({ url: deploy.redisUrl!, timeoutMs: 2000 });
    elsewhere = await createLoginLimiter({
      backend: { kind: 'redis', redis, prefix: deploy.settings.GATEHOUSE_REDIS_PREFIX! },
      connection: mongo,
      logger: createLogger('error'),
      now: dateClock(clock),
    });
  });
  after(async () => {
    elsewhere?.close();
    redis?.disconnect();
    await mongo?.close();
    await gatehouse?.close();
  });

  it('a second-factor code refused 503 behind attempts that never end counts in gatehouse_sign_in_waits_total{outcome="refused"}', async () => {
    const user = await gatehouse.services.accounts.createUser({ username: `waiter${Math.random().toString(36).slice(2, 8)}`, password: PASSWORD });
    const ip = randomIp();
    // The (account, IP) threshold's worth (5 by default), in flight and never ended.
    for (let i = 0; i < 5; i++) expect(await elsewhere.attempt(user.id, ip)).to.include({ locked: false });
    const answer = gatehouse.services.factors.verify(user.id, '000000', ip).then(
      () => 'answered',
      (error: unknown) => (error instanceof SignInsInFlightError ? 'refused' : Promise.reject(error)),
    );
    await clock.advance(10_000);
    expect(await answer).to.equal('refused');
    const metric = await gatehouse.metrics.registry.getSingleMetricAsString('gatehouse_sign_in_waits_total');
    expect(metric).to.contain('gatehouse_sign_in_waits_total{outcome="refused"} 1');
  });
});
