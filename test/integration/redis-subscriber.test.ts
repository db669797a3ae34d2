import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { claimScopeChangesChannel } from '../../src/claims/claim-scopes.ts';
import { keyChangeChannel } from '../../src/keys/change-notice.ts';
import { userChangesChannel } from '../../src/oidc/account-cache.ts';
import { clientChangesChannel, oidcRecordChangesChannel } from '../../src/oidc/storage.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { settingsChangesChannel } from '../../src/settings/notices.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { upstreamChangesChannel } from '../../src/upstream/provider-list.ts';
import { startInstance } from '../helpers/instance.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { TestRedis } from '../helpers/redis-server.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase } from '../helpers/stores.ts';

/** One line of CLIENT LIST, by field. */
type ClientLine = Record<string, string>;

async function clients(redis: Redis): Promise<ClientLine[]> {
  const list = String(await redis.call('CLIENT', 'LIST'));
  return list
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => Object.fromEntries(line.trim().split(' ').map((field) => [field.slice(0, field.indexOf('=')), field.slice(field.indexOf('=') + 1)])));
}

/** The connections in subscribe mode (Redis lists them with flag P). */
async function subscribers(redis: Redis): Promise<ClientLine[]> {
  return (await clients(redis)).filter((client) => client.flags!.includes('P'));
}

/**
 * An instance listens on every change channel (records, clients, accounts, settings, upstream
 * providers, keys) through one Redis connection in subscribe mode, named so that operators see it
 * in CLIENT LIST: six connections before, one after (docs/STORAGE.md, *Change notices*).
 */
describe('the change channels share one Redis subscriber connection per instance (own Redis)', function () {
  this.timeout(90_000);
  const prefix = 'sub15:';
  const channels = [clientChangesChannel, oidcRecordChangesChannel, userChangesChannel, settingsChangesChannel, upstreamChangesChannel, keyChangeChannel, claimScopeChangesChannel].map((of) => of(prefix)).sort();
  let redis: TestRedis;
  let mongodbUri: string;
  let gatehouse: RunningGatehouse | undefined;
  let observer: Redis;

  before(async () => {
    redis = await TestRedis.start();
    mongodbUri = emptyDatabaseUri('redis_subscriber');
    gatehouse = await startInstance({ mongodbUri, redisUrl: redis.url, secret: randomSecret(), settings: { GATEHOUSE_REDIS_PREFIX: prefix, GATEHOUSE_REDIS_TIMEOUT: '1' } });
    observer = await connectRedis({ url: redis.url, timeoutMs: 5000 });
  });
  after(async () => {
    await gatehouse?.close();
    observer?.disconnect();
    await redis?.stop();
    if (mongodbUri !== undefined) await recycleDatabase(mongodbUri);
  });

  /** Each change channel with how many connections listen on it. */
  async function listening(): Promise<Record<string, number>> {
    const answer = (await observer.call('PUBSUB', 'NUMSUB', ...channels)) as Array<string | number>;
    const counts: Record<string, number> = {};
    for (let index = 0; index < answer.length; index += 2) counts[String(answer[index])] = Number(answer[index + 1]);
    return counts;
  }
  const once = () => Object.fromEntries(channels.map((channel) => [channel, 1]));

  it('holds one connection in subscribe mode, named gatehouse:subscriber, on all seven channels: two in all', async () => {
    const mine = String(await observer.call('CLIENT', 'ID'));
    expect((await clients(observer)).filter((client) => client.id !== mine), 'commands and notices').to.have.length(2);
    const subscribed = await subscribers(observer);
    expect(subscribed.map(({ name, sub }) => ({ name, sub })), 'subscribe-mode connections').to.deep.equal([{ name: 'gatehouse:subscriber', sub: '7' }]);
    expect(await listening()).to.deep.equal(once());
  });

  it('after Redis restarts: still one, on all seven channels again', async () => {
    await redis.stop();
    await redis.start();
    await within(NOTICE_MS, async () => observer.status === 'ready' && JSON.stringify(await listening()) === JSON.stringify(once()));
    expect((await subscribers(observer)).map(({ name, sub }) => ({ name, sub }))).to.deep.equal([{ name: 'gatehouse:subscriber', sub: '7' }]);
  });

  it('closing the instance leaves none of its connections behind', async () => {
    expect((await clients(observer)).length, 'the instance is connected').to.be.above(1);
    await gatehouse!.close();
    gatehouse = undefined;
    const mine = String(await observer.call('CLIENT', 'ID'));
    await within(NOTICE_MS, async () => (await clients(observer)).every((client) => client.id === mine));
  });
});
