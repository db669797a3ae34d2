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
});
