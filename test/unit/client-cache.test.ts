import { expect } from 'chai';
import { createClientCache } from '../../src/clients/cache.ts';

describe('client cache', () => {
  it('serves from memory within the TTL, then reloads', async () => {
    let clock = 0;
    let loads = 0;
    const cache = createClientCache({ load: async (id) => `${id}#${++loads}`, ttlMs: 1_000, maxEntries: 10, now: () => clock });
    expect(await cache.get('a')).to.equal('a#1');
    clock = 999;
    expect(await cache.get('a')).to.equal('a#1');
    clock = 1_000;
    expect(await cache.get('a')).to.equal('a#2');
  });

  it('caches unknown ids but never holds more than maxEntries', async () => {
    let loads = 0;
    const cache = createClientCache<string>({ load: async () => void loads++, ttlMs: 60_000, maxEntries: 2 });
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
    const cache = createClientCache({
      load: (id) => (version === 'old' ? new Promise<string>((resolve) => (release = resolve)) : Promise.resolve(`${id}:${version}`)),
      ttlMs: 60_000,
      maxEntries: 10,
    });
    const stale = cache.get('a');
    version = 'new';
    cache.invalidate('a');
    release('a:old');
    expect(await stale).to.equal('a:old');
    expect(await cache.get('a')).to.equal('a:new');
  });
});
