import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { createChangeSubscriber, type ChangeSubscriber } from '../../src/cache/change-subscriber.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { TestRedis } from '../helpers/redis-server.ts';

const quiet = { warn: () => {} };

/** A listener that records what it is told, `(resync)` and `(suspend)` included. */
function recorder(events: string[], prefix: string) {
  return {
    onMessage: (message: string) => events.push(`${prefix}${message}`),
    onResync: () => events.push(`${prefix}(resync)`),
    onSuspend: () => events.push(`${prefix}(suspend)`),
  };
}

/**
 * The one subscriber connection every change channel of an instance listens through
 * (src/cache/change-subscriber.ts), on a Redis of the test's own: what the per-channel
 * connections guaranteed still holds for each channel sharing it.
 */
describe('change subscriber: many channels on one connection (own Redis, stopped and started)', function () {
  this.timeout(60_000);
  let redis: TestRedis;
  let writer: Redis;
  let commands: Redis;
  let subscriber: ChangeSubscriber;

  beforeEach(async () => {
    redis = await TestRedis.start();
    writer = await connectRedis({ url: redis.url, timeoutMs: 1000 });
    commands = await connectRedis({ url: redis.url, timeoutMs: 1000 });
    subscriber = createChangeSubscriber({ redis: commands, logger: quiet });
  });
  afterEach(async () => {
    await subscriber?.close();
    writer?.disconnect();
    commands?.disconnect();
    await redis?.stop();
  });

  async function listeners(channel: string): Promise<number> {
    const [, count] = (await writer.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
    return Number(count);
  }

  it('each message reaches every listener of its channel and no other', async () => {
    const events: string[] = [];
    await subscriber.listen('a', recorder(events, 'a1:'));
    await subscriber.listen('a', recorder(events, 'a2:'));
    await subscriber.listen('b', recorder(events, 'b:'));
    await writer.publish('a', 'x');
    await writer.publish('b', 'y');
    await within(NOTICE_MS, async () => events.length === 3);
    expect(events).to.deep.equal(['a1:x', 'a2:x', 'b:y']);
  });

  it('closing a listener unsubscribes its channel only once no other listener of it remains', async () => {
    const events: string[] = [];
    const first = await subscriber.listen('a', recorder(events, 'a1:'));
    const second = await subscriber.listen('a', recorder(events, 'a2:'));
    await subscriber.listen('b', recorder(events, 'b:'));
    await first.close();
    expect(await listeners('a'), 'a: another listener remains').to.equal(1);
    await writer.publish('a', 'x');
    await within(NOTICE_MS, async () => events.length === 1);
    expect(events).to.deep.equal(['a2:x']);
    await second.close();
    expect(await listeners('a'), 'a: none left').to.equal(0);
    expect(await listeners('b'), 'b: untouched').to.equal(1);
  });

  it('tells every listener when the connection is lost, and each resyncs once it is back and subscribed', async () => {
    const events: string[] = [];
    await subscriber.listen('a', recorder(events, 'a:'));
    await subscriber.listen('b', recorder(events, 'b:'));
    await redis.stop();
    await within(NOTICE_MS, async () => events.length === 2);
    expect(events.sort()).to.deep.equal(['a:(suspend)', 'b:(suspend)']);
    await redis.start();
    await within(NOTICE_MS, async () => events.length === 4);
    expect(events.slice(2).sort()).to.deep.equal(['a:(resync)', 'b:(resync)']);
    // Resynced means subscribed: what is published now reaches them.
    await within(NOTICE_MS, async () => writer.status === 'ready');
    await writer.publish('a', 'x');
    await writer.publish('b', 'y');
    await within(NOTICE_MS, async () => events.length === 6);
    expect(events.slice(4)).to.deep.equal(['a:x', 'b:y']);
  });

  it('a listener added while the connection is down starts suspended and resyncs once it is up', async () => {
    const events: string[] = [];
    await subscriber.listen('a', recorder(events, 'a:'));
    await redis.stop();
    await within(NOTICE_MS, async () => events.includes('a:(suspend)'));
    await subscriber.listen('b', recorder(events, 'b:'));
    expect(events, 'suspended at once: nothing it caches can be trusted yet').to.include('b:(suspend)');
    await redis.start();
    await within(NOTICE_MS, async () => events.includes('a:(resync)') && events.includes('b:(resync)'));
    await within(NOTICE_MS, async () => writer.status === 'ready');
    await writer.publish('b', 'y');
    await within(NOTICE_MS, async () => events.includes('b:y'));
  });

  it('a listener that throws does not keep the message from the others', async () => {
    const events: string[] = [];
    await subscriber.listen('a', {
      onMessage: () => {
        throw new Error('boom');
      },
      onResync: () => {},
      onSuspend: () => {},
    });
    await subscriber.listen('a', recorder(events, 'a:'));
    await writer.publish('a', 'x');
    await within(NOTICE_MS, async () => events.length === 1);
    expect(events).to.deep.equal(['a:x']);
  });

  it('opens one connection, named gatehouse:subscriber, only once something listens; close() ends it', async () => {
    const named = async () => String(await writer.call('CLIENT', 'LIST')).split('\n').filter((line) => line.includes(' name=gatehouse:subscriber ')).length;
    expect(await named(), 'nothing listens yet').to.equal(0);
    await subscriber.listen('a', recorder([], 'a:'));
    await subscriber.listen('b', recorder([], 'b:'));
    expect(await named()).to.equal(1);
    await subscriber.close();
    await within(NOTICE_MS, async () => (await named()) === 0);
  });
});
