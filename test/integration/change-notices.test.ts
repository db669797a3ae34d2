import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { createChangeChannel } from '../../src/cache/change-channel.ts';
import { createChangeSubscriber, type ChangeSubscriber } from '../../src/cache/change-subscriber.ts';
import { createSecretBox } from '../../src/crypto/secret-box.ts';
import { keyChangeChannel, keyChangeNotices } from '../../src/keys/change-notice.ts';
import type { KeySet } from '../../src/keys/key-store.ts';
import type { AuditTrail } from '../../src/observability/audit-trail.ts';
import { userChangesChannel } from '../../src/oidc/account-cache.ts';
import { cacheOperations } from '../../src/operations/caches.ts';
import { settingsChangesChannel } from '../../src/settings/notices.ts';
import { upstreamChangesChannel } from '../../src/upstream/provider-list.ts';
import { clientChangesChannel, oidcRecordChangesChannel, openOidcStorage, type OidcStorage } from '../../src/oidc/storage.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { collectionName } from '../../src/storage/oidc/models.ts';
import { faultyLink, type FaultyLink } from '../helpers/faulty-link.ts';
import { heldNotices, type HeldNotices } from '../helpers/held-notices.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { testClock } from '../helpers/clock.ts';
import { TestRedis } from '../helpers/redis-server.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase } from '../helpers/stores.ts';

const quiet = { warn: () => {} };

/** Two instances' view of one channel: a writer and a listener that records what reaches it (a resync as `(resync)`). */
async function channelPair(writerUrl: string, listenerUrl: string, timeoutMs: number, writerLogger: { warn: (obj: unknown, msg: string) => void } = quiet) {
  const received: string[] = [];
  const writer = await connectRedis({ url: writerUrl, timeoutMs });
  const listener = await connectRedis({ url: listenerUrl, timeoutMs });
  const subscriber = createChangeSubscriber({ redis: listener, logger: quiet });
  const writing = createChangeChannel({ redis: writer, channel: 'test:changed', logger: writerLogger });
  const subscription = await createChangeChannel({ redis: listener, channel: 'test:changed', logger: quiet, subscriber }).subscribe(
    (id) => received.push(id),
    () => received.push('(resync)'),
  );
  return {
    writer,
    writing,
    received,
    async close(): Promise<void> {
      await subscription.close().catch(() => {});
      await subscriber.close();
      await writing.close().catch(() => {});
      writer.disconnect();
      listener.disconnect();
    },
  };
}

/**
 * Change notices (src/cache/change-channel.ts) with a real Redis that goes away: a notice this
 * instance could not publish is sent again until Redis takes it, and an instance whose
 * subscription is lost serves nothing from its record cache until the subscription is back —
 * so what another instance may serve stale is not bounded by the cache's TTL.
 */
describe('change notices survive a lost Redis connection (real Redis, stopped and cut)', function () {
  this.timeout(60_000);

  describe('publish() (Redis slow to hand the notice to a subscriber)', () => {
    let redis: TestRedis;
    let links: HeldNotices;
    let pair: Awaited<ReturnType<typeof channelPair>> | undefined;

    before(async () => {
      redis = await TestRedis.start();
      links = await heldNotices(redis.url);
      pair = await channelPair(links.writerUri, links.listenerUri, 5000);
    });
    after(async () => {
      await pair?.close();
      await links?.close();
      await redis?.stop();
    });

    it('returns once every subscribed instance has the notice, not when Redis answered the PUBLISH', async () => {
      const { writing, received } = pair!;
      links.holdNextNotice();
      await writing.publish('client-1');
      expect(received).to.deep.equal(['client-1']);
      links.holdNextNotice();
      await writing.publish('client-2');
      expect(received).to.deep.equal(['client-1', 'client-2']);
    });
  });

  describe('notices sent outside the caches: key changes and the operator\'s flush (Redis slow to hand them over)', () => {
    let redis: TestRedis;
    let links: HeldNotices;
    const connections: Redis[] = [];
    const closers: Array<() => Promise<unknown>> = [];
    /** What reached the listening instance, by channel. */
    const heard: Array<[string, string]> = [];
    let writer: Redis;
    const prefix = 'held:';
    const channels = [clientChangesChannel, oidcRecordChangesChannel, userChangesChannel, settingsChangesChannel, upstreamChangesChannel].map((of) => of(prefix));

    before(async () => {
      redis = await TestRedis.start();
      links = await heldNotices(redis.url);
      writer = await connectRedis({ url: links.writerUri, timeoutMs: 5000 });
      const listener = await connectRedis({ url: links.listenerUri, timeoutMs: 5000 });
      connections.push(writer, listener);
      // One subscriber connection for every channel, as an instance has.
      const subscriber = createChangeSubscriber({ redis: listener, logger: quiet });
      closers.push(() => subscriber.close());
      for (const channel of channels) {
        const subscription = await createChangeChannel({ redis: listener, channel, logger: quiet, subscriber }).subscribe(
          (id) => heard.push([channel, id]),
          () => heard.push([channel, '(resync)']),
        );
        closers.push(() => subscription.close());
      }
      const stop = await keyChangeNotices({ redis: listener, redisPrefix: prefix, logger: quiet, subscriber }).listen(() => heard.push([keyChangeChannel(prefix), '(notice)']));
      closers.push(stop);
    });
    after(async () => {
      for (const close of closers.reverse()) await close().catch(() => {});
      for (const connection of connections) connection.disconnect();
      await links?.close();
      await redis?.stop();
    });

    it('a key change: the announcement returns once every instance has it (the key ring, and the CLI that reports it)', async () => {
      const notices = keyChangeNotices({ redis: writer, redisPrefix: prefix, logger: quiet });
      closers.push(() => notices.close());
      heard.length = 0;
      links.holdNextNotice();
      await notices.announce(2);
      expect(heard).to.deep.equal([[keyChangeChannel(prefix), '(notice)']]);
      links.holdNextNotice();
      expect(await notices.announceNow(3), 'instances listening').to.equal(1);
      expect(heard).to.have.length(2);
    });

    it("the operator's cache flush returns once every instance has every notice, the last one too", async () => {
      heard.length = 0;
      const audit = { write: async () => ({}) } as unknown as AuditTrail;
      const flush = cacheOperations({ redis: writer, redisPrefix: prefix, logger: quiet, keys: { keySet: async () => ({ version: 3 }) as KeySet }, audit });
      links.holdNextNotice(keyChangeChannel(prefix));
      const report = await flush.flush({ actor: { type: 'cli', id: null } });
      expect(report.caches.map(({ listeners }) => listeners), 'one instance listens on each').to.deep.equal([1, 1, 1, 1, 1, 1]);
      expect(heard).to.deep.equal([...channels.map((channel): [string, string] => [channel, '(resync)']), [keyChangeChannel(prefix), '(notice)']]);
    });
  });

  describe('a revocation that has returned (Redis slow to hand the notice to the other instance)', () => {
    let redis: TestRedis;
    let links: HeldNotices;
    let mongo: Connection;
    let mongodbUri: string;
    const connections: Redis[] = [];
    const subscribers: ChangeSubscriber[] = [];
    const storages: OidcStorage[] = [];
    /** Instance A (caches, listens through the link that holds its notices) and B (revokes). */
    let a: OidcStorage;
    let b: OidcStorage;
    const now = () => 1_800_000_000_000;

    before(async () => {
      redis = await TestRedis.start();
      links = await heldNotices(redis.url);
      mongodbUri = emptyDatabaseUri('held_notices');
      mongo = await connectMongo({ uri: mongodbUri, timeoutMs: 5000 });
      const secret = randomSecret();
      const open = async (url: string) => {
        const connection = await connectRedis({ url, timeoutMs: 5000 });
        connections.push(connection);
        const subscriber = createChangeSubscriber({ redis: connection, logger: quiet });
        subscribers.push(subscriber);
        const storage = await openOidcStorage({
          mongo,
          redis: connection,
          subscriber,
          redisPrefix: 'held:',
          reuseWindowSeconds: 0,
          clientCacheTtlSeconds: 0,
          // A minute on a frozen clock: only the notice can make A drop what it cached.
          sessionCacheTtlSeconds: 60,
          clientSecretBox: createSecretBox(secret, 'client-secrets'),
          logger: quiet,
          now,
        });
        storages.push(storage);
        return storage;
      };
      a = await open(links.listenerUri);
      b = await open(links.writerUri);
    });
    after(async () => {
      await Promise.all(storages.map((storage) => storage.close().catch(() => {})));
      await Promise.all(subscribers.map((subscriber) => subscriber.close()));
      for (const connection of connections) connection.disconnect();
      await links?.close();
      await mongo?.close();
      await redis?.stop();
      if (mongodbUri !== undefined) await recycleDatabase(mongodbUri);
    });

    const token = (id: string) => ({ jti: id, kind: 'ClientCredentials', clientId: 'service', scope: 'read', exp: now() / 1000 + 600, iat: now() / 1000 });

    it('has reached every instance: an opaque token revoked at B is gone at A, though Redis answered B before writing to A', async () => {
      await b.adapter('ClientCredentials').upsert('t1', token('t1'), 600);
      expect(await a.adapter('ClientCredentials').find('t1'), 'cached at A').to.include({ jti: 't1' });
      links.holdNextNotice();
      // The revocation endpoint's destroy: dropped at B, announced, then B answers.
      await b.adapter('ClientCredentials').destroy('t1');
      expect(await a.adapter('ClientCredentials').find('t1'), 'at A once B has answered').to.equal(undefined);
    });
  });

  describe('a notice whose publish failed', () => {
    let redis: TestRedis;
    let link: FaultyLink;
    let pair: Awaited<ReturnType<typeof channelPair>> | undefined;
    const warnings: string[] = [];

    before(async () => {
      redis = await TestRedis.start();
      link = await faultyLink(redis.url);
      pair = await channelPair(link.uri, redis.url, 1000, { warn: (_obj, msg) => warnings.push(msg) });
    });
    after(async () => {
      await pair?.close();
      await link?.close();
      await redis?.stop();
    });

    it('is sent again once this instance reaches Redis again, and reaches the other instances', async () => {
      const { writer, writing, received } = pair!;
      await writing.publish('before');
      await within(NOTICE_MS, async () => received.includes('before'));

      // This instance's connection breaks; the others' does not.
      link.sever();
      await within(NOTICE_MS, async () => writer.status !== 'ready');
      await writing.publish('grant-1');
      await writing.publish('grant-2');
      await writing.publish('grant-1');
      expect(writing.pending(), 'kept for the retry, once each').to.equal(2);
      expect(received).to.not.include('grant-1');
      expect(warnings, 'the failure is logged once').to.have.length(1);

      link.mend();
      // The listener may have its copies before the writer has Redis's answers (Redis writes
      // both in one turn, in no promised order; the writer's go through the link): wait for both.
      await within(NOTICE_MS, async () => received.includes('grant-1') && received.includes('grant-2') && writing.pending() === 0);
      expect(received.filter((id) => id !== '(resync)')).to.deep.equal(['before', 'grant-1', 'grant-2']);
      expect(warnings.at(-1)).to.match(/delivered after Redis was unreachable/);
    });
  });

  describe('a subscription whose connection stops answering without closing (a network partition), on a clock the test moves', () => {
    /** The subscriber's default heartbeat; a frozen clock beats only when the test moves it. */
    const HEARTBEAT_MS = 5_000;
    const clock = testClock({ frozen: true });
    /** One heartbeat: the clock moved past it, and the beat's decision (made after the turn's I/O) taken. */
    const beat = async () => {
      await clock.advance(HEARTBEAT_MS);
      await new Promise((resolve) => setImmediate(resolve));
    };
    let redis: TestRedis;
    let link: FaultyLink;
    let writer: Redis;
    let listener: Redis;
    let subscriber: ChangeSubscriber | undefined;
    let subscription: { close(): Promise<void> } | undefined;
    const events: string[] = [];

    before(async () => {
      redis = await TestRedis.start();
      link = await faultyLink(redis.url);
      writer = await connectRedis({ url: redis.url, timeoutMs: 1000 });
      listener = await connectRedis({ url: link.uri, timeoutMs: 1000 });
      subscriber = createChangeSubscriber({ redis: listener, logger: quiet, clock });
      subscription = await createChangeChannel({ redis: listener, channel: 'test:changed', logger: quiet, subscriber }).subscribe(
        (id) => events.push(id),
        () => events.push('(resync)'),
        () => events.push('(suspend)'),
      );
    });
    after(async () => {
      await subscription?.close().catch(() => {});
      await subscriber?.close();
      writer?.disconnect();
      listener?.disconnect();
      await link?.close();
      await redis?.stop();
    });

    it('is suspended when a PING stays unanswered through two more heartbeats, and resumes once it answers again', async () => {
      await writer.publish('test:changed', 'before');
      await within(NOTICE_MS, async () => events.includes('before'));
      link.partition();
      await beat(); // PING sent, into the partition
      await beat(); // unanswered: one missed beat
      expect(events, 'one missed beat is no loss').to.not.include('(suspend)');
      await beat(); // two: silent
      expect(events).to.include('(suspend)');
      link.unpartition();
      await within(NOTICE_MS, async () => events.includes('(resync)'));
      expect(events.slice(0, 3)).to.deep.equal(['before', '(suspend)', '(resync)']);
      await writer.publish('test:changed', 'after');
      await within(NOTICE_MS, async () => events.includes('after'));
    });

    it('a slow PING (a busy Redis, a stalled event loop) answered before the second missed beat drops nothing: no cache of the instance is emptied', async () => {
      const suspensions = () => events.filter((event) => event === '(suspend)').length;
      const before = suspensions();
      const slow = link.stallNextReply('ping');
      await beat(); // PING sent; its answer held back
      await slow.stalled;
      await beat(); // unanswered at this beat: one miss
      slow.resume();
      await writer.publish('test:changed', 'while-slow');
      // The held answer arrives ahead of the message (one connection, in order).
      await within(NOTICE_MS, async () => events.includes('while-slow'));
      // Answered: this beat sends a fresh PING instead of counting a second miss.
      await beat();
      expect(suspensions(), 'no suspension: the caches stay').to.equal(before);
      await writer.publish('test:changed', 'still-live');
      await within(NOTICE_MS, async () => events.includes('still-live'));
      expect(suspensions()).to.equal(before);
    });
  });

  describe('an instance whose change subscription is lost', () => {
    let redis: TestRedis;
    let mongo: Connection;
    let mongodbUri: string;
    let publisher: Redis;
    let subscriber: ChangeSubscriber | undefined;
    let storage: OidcStorage;
    let grantReads = 0;
    const now = () => 1_800_000_000_000;

    before(async () => {
      redis = await TestRedis.start();
      mongodbUri = emptyDatabaseUri('change_notices');
      mongo = await connectMongo({ uri: mongodbUri, timeoutMs: 5000 });
      publisher = await connectRedis({ url: redis.url, timeoutMs: 1000 });
      subscriber = createChangeSubscriber({ redis: publisher, logger: quiet });
      storage = await openOidcStorage({
        mongo,
        redis: publisher,
        subscriber,
        redisPrefix: 'notices:',
        reuseWindowSeconds: 0,
        clientCacheTtlSeconds: 0,
        // A minute on a frozen clock: only a notice, or the suspension, explains a fresh read.
        sessionCacheTtlSeconds: 60,
        clientSecretBox: createSecretBox(randomSecret(), 'client-secrets'),
        logger: quiet,
        now,
        onOperation: ({ model, store, operation }) => {
          if (model === 'Grant' && store === 'mongodb' && operation === 'find') grantReads += 1;
        },
      });
    });
    after(async () => {
      await storage?.close().catch(() => {});
      await subscriber?.close();
      publisher?.disconnect();
      await mongo?.close();
      await redis?.stop();
      if (mongodbUri !== undefined) await recycleDatabase(mongodbUri);
    });

    const grants = () => mongo.db!.collection<{ _id: string }>(collectionName('Grant'));
    const grant = (id: string) => ({ jti: id, kind: 'Grant', accountId: 'user-1', clientId: 'app', exp: now() / 1000 + 3600, iat: now() / 1000 });

    it('reads every record from the store until the subscription is back, then caches again', async () => {
      const adapter = storage.adapter('Grant');
      await adapter.upsert('g1', grant('g1'), 3600);
      expect(await adapter.find('g1')).to.include({ jti: 'g1' });
      // Gone from the store without a notice (as if its notice were lost): the cache still has it.
      await grants().deleteOne({ _id: 'g1' });
      const before = grantReads;
      expect(await adapter.find('g1'), 'served from memory').to.include({ jti: 'g1' });
      expect(grantReads).to.equal(before);

      await redis.stop();
      // Notices cannot reach this instance now: nothing is served from memory.
      await within(NOTICE_MS, async () => (await adapter.find('g1')) === undefined);
      await grants().insertOne({ _id: 'g2', payload: JSON.stringify(grant('g2')), expiresAt: new Date(now() + 3_600_000) } as never);
      expect(await adapter.find('g2')).to.include({ jti: 'g2' });
      const during = grantReads;
      expect(await adapter.find('g2')).to.include({ jti: 'g2' });
      expect(grantReads, 'read from the store each time').to.equal(during + 1);

      await redis.start();
      // Once resubscribed it caches again (what it read meanwhile was forgotten).
      await within(NOTICE_MS, async () => {
        await adapter.find('g2');
        const at = grantReads;
        await adapter.find('g2');
        return grantReads === at;
      });
      await grants().deleteOne({ _id: 'g2' });
      expect(await adapter.find('g2'), 'served from memory again').to.include({ jti: 'g2' });
    });
  });
});
