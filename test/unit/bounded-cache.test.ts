import { expect } from 'chai';
import { createBoundedCache } from '../../src/cache/bounded-cache.ts';

describe('bounded cache', () => {
  it('serves from memory within the TTL, then reloads', async () => {
    let clock = 0;
    let loads = 0;
    const cache = createBoundedCache({ load: async (id) => `${id}#${++loads}`, ttlMs: 1_000, maxEntries: 10, cacheMisses: true, now: () => clock });
    expect(await cache.get('a')).to.equal('a#1');
    clock = 999;
    expect(await cache.get('a')).to.equal('a#1');
    clock = 1_000;
    expect(await cache.get('a')).to.equal('a#2');
  });

  it('is bounded by bytes as well as entries: the oldest go first, a value larger than the bound is not kept', async () => {
    const cache = createBoundedCache<string>({ load: async (id) => id.repeat(10), ttlMs: 60_000, maxEntries: 100, maxBytes: 35, sizeOf: (value) => value.length, cacheMisses: false, now: () => 0 });
    await cache.get('a');
    await cache.get('b');
    await cache.get('c');
    expect([cache.size(), cache.bytes()]).to.deep.equal([3, 30]);
    await cache.get('d');
    expect([cache.size(), cache.bytes()], 'a (the oldest) made room for d').to.deep.equal([3, 30]);
    cache.invalidate('b');
    expect(cache.bytes()).to.equal(20);
    await cache.get('long-enough-to-break-the-bound');
    expect([cache.size(), cache.bytes()], 'nothing dropped for a value that cannot fit').to.deep.equal([2, 20]);
    cache.clear();
    expect(cache.bytes()).to.equal(0);
  });

  it('lets go of expired entries, so a burst of traffic does not hold memory until the next one', async () => {
    let clock = 0;
    const cache = createBoundedCache({ load: async (id) => `${id}!`, ttlMs: 1_000, maxEntries: 10, cacheMisses: true, now: () => clock });
    await cache.get('a');
    clock = 500;
    await cache.get('b');
    expect(cache.size()).to.equal(2);
    clock = 1_000;
    cache.dropExpired();
    expect(cache.size()).to.equal(1);
    clock = 1_500;
    cache.dropExpired();
    expect(cache.size()).to.equal(0);
  });

  it('caches unknown ids but never holds more than maxEntries', async () => {
    let loads = 0;
    const cache = createBoundedCache<string>({ load: async () => void loads++, ttlMs: 60_000, maxEntries: 2, cacheMisses: true });
    await cache.get('x');
    await cache.get('x');
    expect(loads).to.equal(1);
    await cache.get('y');
    await cache.get('z');
    await cache.get('x');
    expect(loads).to.equal(4);
  });

  it('does not keep a load that an invalidation overtook', async () => {
    let release!: (value: string) => void;
    let version = 'old';
    const cache = createBoundedCache({
      load: (id) => (version === 'old' ? new Promise<string>((resolve) => (release = resolve)) : Promise.resolve(`${id}:${version}`)),
      ttlMs: 60_000,
      maxEntries: 10,
      cacheMisses: true,
    });
    const stale = cache.get('a');
    version = 'new';
    cache.invalidate('a');
    release('a:old');
    expect(await stale).to.equal('a:old');
    expect(await cache.get('a')).to.equal('a:new');
  });

  it('with cacheMisses off, asks again for unknown ids and keeps only found ones', async () => {
    let loads = 0;
    let known = false;
    const cache = createBoundedCache<string>({ load: async (id) => (++loads, known ? id : undefined), ttlMs: 60_000, maxEntries: 10, cacheMisses: false });
    expect(await cache.get('a')).to.equal(undefined);
    expect(await cache.get('a')).to.equal(undefined);
    expect(loads).to.equal(2);
    known = true;
    expect(await cache.get('a')).to.equal('a');
    expect(await cache.get('a')).to.equal('a');
    expect(loads).to.equal(3);
  });

  it('tracks invalidations per key: a change to another record does not stop a load from being kept', async () => {
    let loads = 0;
    let release!: () => void;
    const cache = createBoundedCache({
      load: async (id) => {
        loads += 1;
        if (loads === 1) await new Promise<void>((resolve) => (release = resolve));
        return id;
      },
      ttlMs: 60_000,
      maxEntries: 10,
      cacheMisses: false,
    });
    const pending = cache.get('a');
    cache.invalidate('b');
    release();
    await pending;
    await cache.get('a');
    expect(loads).to.equal(1);
  });

  it('keeps what a read outside the cache found, unless the key was invalidated after it began', async () => {
    let loads = 0;
    const cache = createBoundedCache<string>({ load: async (id) => `${id}#${++loads}`, ttlMs: 1_000, maxEntries: 10, cacheMisses: false, now: () => 0 });
    const kept = cache.begin();
    kept.store('a', 'a read by login');
    expect(await cache.get('a')).to.equal('a read by login');
    expect(loads).to.equal(0);

    const overtaken = cache.begin();
    cache.invalidate('b'); // the user changed while the sign-in was reading it
    overtaken.store('b', 'b before the change');
    expect(await cache.get('b')).to.equal('b#1');

    const ended = cache.begin();
    ended.end();
    ended.store('c', 'after end');
    expect(await cache.get('c')).to.equal('c#2');
  });

  it('drops an entry when one of its aliases is invalidated, even if the load was still running', async () => {
    let loads = 0;
    let release!: () => void;
    const cache = createBoundedCache<{ key: string; alias: string }>({
      load: async (key) => {
        loads += 1;
        if (loads === 2) await new Promise<void>((resolve) => (release = resolve));
        return { key, alias: 'alias-of-a' };
      },
      aliases: (value) => [value.alias],
      ttlMs: 60_000,
      maxEntries: 10,
      cacheMisses: false,
    });
    await cache.get('a');
    cache.invalidate('alias-of-a');
    const pending = cache.get('a');
    cache.invalidate('alias-of-a');
    release();
    await pending;
    await cache.get('a');
    expect(loads).to.equal(3);
  });

  describe('read: a hit without a promise', () => {
    it('answers a valid entry at once with the value get gives, and a promise otherwise', async () => {
      let clock = 0;
      let loads = 0;
      const cache = createBoundedCache({ load: async (id) => ({ id, load: ++loads }), ttlMs: 1_000, maxEntries: 10, cacheMisses: true, now: () => clock });
      const first = cache.read('a');
      expect(first, 'a miss: a promise').to.be.instanceOf(Promise);
      expect(await first).to.deep.equal({ id: 'a', load: 1 });
      const hit = cache.read('a');
      expect(hit, 'a hit: the value itself').not.to.be.instanceOf(Promise);
      expect(hit).to.equal(await cache.get('a'));
      clock = 1_000;
      const expired = cache.read('a');
      expect(expired, 'expired: loaded again, never the old value').to.be.instanceOf(Promise);
      expect(await expired).to.deep.equal({ id: 'a', load: 2 });
      expect(cache.read('a')).to.deep.equal({ id: 'a', load: 2 });
    });

    it('never answers a value an invalidation dropped, nor one whose own validity ended', async () => {
      let version = 1;
      let clock = 0;
      const cache = createBoundedCache<{ id: string; version: number; until: number }>({
        load: async (id) => ({ id, version, until: 500 }),
        validUntil: (value) => value.until,
        ttlMs: 60_000,
        maxEntries: 10,
        cacheMisses: false,
        now: () => clock,
      });
      await cache.read('a');
      expect(cache.read('a')).to.deep.include({ version: 1 });
      version = 2;
      cache.invalidate('a');
      expect(await cache.read('a'), 'after the invalidation: the new value').to.deep.include({ version: 2 });
      expect(cache.read('a')).to.deep.include({ version: 2 });
      clock = 500;
      version = 3;
      const ended = cache.read('a');
      expect(ended, 'past validUntil: loaded again').to.be.instanceOf(Promise);
      expect(await ended).to.deep.include({ version: 3 });
    });

    it('answers a kept miss at once as undefined, and asks again for one it does not keep', async () => {
      let loads = 0;
      const keeping = createBoundedCache<string>({ load: async () => void loads++, ttlMs: 60_000, maxEntries: 10, cacheMisses: true });
      await keeping.read('x');
      expect(keeping.read('x'), 'the kept miss').to.equal(undefined);
      expect(loads).to.equal(1);
      const asking = createBoundedCache<string>({ load: async () => void loads++, ttlMs: 60_000, maxEntries: 10, cacheMisses: false });
      await asking.read('x');
      const again = asking.read('x');
      expect(again).to.be.instanceOf(Promise);
      expect(await again).to.equal(undefined);
      expect(loads).to.equal(3);
    });

    it('does not join a load an invalidation overtook, and does not keep its value', async () => {
      let release!: (value: string) => void;
      let version = 'old';
      const cache = createBoundedCache({
        load: (id) => (version === 'old' ? new Promise<string>((resolve) => (release = resolve)) : Promise.resolve(`${id}:${version}`)),
        ttlMs: 60_000,
        maxEntries: 10,
        cacheMisses: true,
      });
      const stale = cache.read('a');
      version = 'new';
      cache.invalidate('a');
      const fresh = cache.read('a');
      release('a:old');
      expect(await stale).to.equal('a:old');
      expect(await fresh).to.equal('a:new');
      expect(cache.read('a')).to.equal('a:new');
    });

    it('with the cache off (ttl 0), always loads; a load that throws at once rejects', async () => {
      let loads = 0;
      const off = createBoundedCache<string>({ load: async (id) => `${id}#${++loads}`, ttlMs: 0, maxEntries: 10, cacheMisses: true });
      expect(await off.read('a')).to.equal('a#1');
      expect(await off.read('a')).to.equal('a#2');
      const throwing = createBoundedCache<string>({
        load: () => {
          throw new Error('store down');
        },
        ttlMs: 60_000,
        maxEntries: 10,
        cacheMisses: true,
      });
      const failed = throwing.read('a');
      expect(failed).to.be.instanceOf(Promise);
      let caught: unknown;
      try {
        await failed;
      } catch (error) {
        caught = error;
      }
      expect((caught as Error | undefined)?.message).to.equal('store down');
    });
  });
});
