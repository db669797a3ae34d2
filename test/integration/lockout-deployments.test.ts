import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { serviceUrls } from '../helpers/stores.ts';

/**
 * Two deployments (own issuers, databases and GATEHOUSE_REDIS_PREFIX) on one Redis server: a
 * lockout in one must not lock anyone out of the other.
 */
describe('login lockout counters per deployment (two deployments, one Redis)', () => {
  const settings = { GATEHOUSE_LOCKOUT_IP_THRESHOLD: '3', GATEHOUSE_LOCKOUT_SECONDS: '600' };
  let a: Deployment;
  let b: Deployment;
  let first: RunningGatehouse;
  let second: RunningGatehouse;
  let redis: Redis;

  before(async () => {
    a = await deployment('lockout_a', { settings });
    b = await deployment('lockout_b', { settings });
    expect(a.redisUrl).to.equal(b.redisUrl);
    expect(a.settings.GATEHOUSE_REDIS_PREFIX).to.not.equal(b.settings.GATEHOUSE_REDIS_PREFIX);
    [first, second] = await Promise.all([a.start(), b.start()]);
    redis = await connectRedis({ url: serviceUrls().redisUrl!, timeoutMs: 2000 });
  });
  after(async () => {
    redis?.disconnect();
    await Promise.all([first?.close(), second?.close()]);
    await Promise.all([a?.drop(), b?.drop()]);
  });

  it('an address locked out of one deployment still signs in to the other; the counters sit under each deployment\'s prefix', async () => {
    const ip = `198.51.100.${10 + Math.floor(Math.random() * 200)}`;
    const inA = await first.services.accounts.createUser({ username: 'carol', password: PASSWORD });
    const inB = await second.services.accounts.createUser({ username: 'carol', password: PASSWORD });
    for (let i = 0; i < 3; i += 1) expect((await first.services.accounts.authenticate(`nobody${i}`, 'wrong password', ip)).ok).to.equal(false);
    // Locked in A, even with the right password.
    expect((await first.services.accounts.authenticate('carol', PASSWORD, ip)).ok, 'A locks the address').to.equal(false);
    expect((await first.services.accounts.listLockouts()).some((lock) => lock.scope === 'ip')).to.equal(true);
    // B has its own counters.
    const inOther = await second.services.accounts.authenticate('carol', PASSWORD, ip);
    expect(inOther.ok, 'B does not see A\'s lockout').to.equal(true);
    expect(inB.id).to.not.equal(inA.id);
    // The lock (and the level it escalates from) sit under A's prefix, nothing outside it.
    expect(await redis.exists(`${a.settings.GATEHOUSE_REDIS_PREFIX}gh_login_lock_ip:${ip}`)).to.equal(1);
    expect(await redis.exists(`${a.settings.GATEHOUSE_REDIS_PREFIX}gh_lock_level_ip:${ip}`)).to.equal(1);
    expect(await redis.keys(`*gh_*_ip:${ip}`)).to.have.members([`${a.settings.GATEHOUSE_REDIS_PREFIX}gh_login_lock_ip:${ip}`, `${a.settings.GATEHOUSE_REDIS_PREFIX}gh_lock_level_ip:${ip}`]);
  });
});
