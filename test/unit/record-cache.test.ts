import { expect } from 'chai';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { createRecordCache, type RecordCache } from '../../src/storage/oidc/record-cache.ts';

/** A store behind the cache that counts reads; `hold` makes the next read wait for `release`. */
function fakeStore() {
  const records = new Map<string, AdapterPayload>();
  const reads = { find: 0, findByUid: 0 };
  let held: Array<() => void> | undefined;
  const gate = async () => {
    if (held !== undefined) await new Promise<void>((resolve) => held!.push(resolve));
  };
  const adapter: Adapter = {
    async find(id) {
      reads.find += 1;
      const found = records.get(id);
      await gate();
      return found === undefined ? undefined : structuredClone(found);
    },
    async findByUid(uid) {
      reads.findByUid += 1;
      const found = [...records.values()].find((record) => record.uid === uid);
      await gate();
      return found === undefined ? undefined : structuredClone(found);
    },
    findByUserCode: async () => undefined,
    async upsert(id, payload) {
      const created = !records.has(id);
      records.set(id, structuredClone({ ...payload, jti: id }));
      // What the MongoDB adapter resolves to (upsert-outcome.ts).
      return { created } as unknown as undefined;
    },
    async consume(id) {
      const found = records.get(id);
      if (found !== undefined) found.consumed = 1;
    },
    async destroy(id) {
      records.delete(id);
    },
    revokeByGrantId: async () => {},
  };
  return {
    adapter,
    records,
    reads,
    hold() {
      held = [];
    },
    release() {
      const waiting = held ?? [];
      held = undefined;
      for (const resume of waiting) resume();
    },
  };
}

/**
 * The cache's clock in every test: a fixed instant, moved only where a test says so. Payloads
 * carry `exp` an hour after it, the same value however long the machine takes between storing
 * a record and comparing it (computing it from the wall clock at each use gave two values a
 * second apart when a second boundary fell in between).
 */
const NOW_MS = Date.UTC(2030, 0, 1);
const LATER = NOW_MS / 1000 + 3600;
const session = (id: string, uid: string, extra: Record<string, unknown> = {}) =>
  ({ jti: id, uid, kind: 'Session', accountId: 'alice', exp: LATER, authorizations: { app: { grantId: 'g1' } }, ...extra }) as AdapterPayload;
const grant = (id: string, scope = 'openid') => ({ jti: id, kind: 'Grant', accountId: 'alice', exp: LATER, openid: { scope } }) as AdapterPayload;
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Session/Grant record cache', () => {
  let store: ReturnType<typeof fakeStore>;
  let grantStore: ReturnType<typeof fakeStore>;
  let notices: string[];
  let cache: RecordCache;
  let sessions: Adapter;
  let grants: Adapter;

  function open(ttlSeconds = 60, maxEntries?: number, now: () => number = () => NOW_MS) {
    store = fakeStore();
    grantStore = fakeStore();
    notices = [];
    cache = createRecordCache({ ttlSeconds, ...(maxEntries === undefined ? {} : { maxEntries }), now, announce: async (notice) => void notices.push(notice) });
    sessions = cache.wrap('Session', store.adapter);
    grants = cache.wrap('Grant', grantStore.adapter);
  }

  beforeEach(() => open());

  it('serves repeated reads by id and by uid from memory, each caller getting its own copy', async () => {
    await store.adapter.upsert('s1', session('s1', 'u1'), 60);
    const first = await sessions.find('s1');
    (first!.authorizations as Record<string, unknown>).app = 'mutated by the caller';
    expect(await sessions.find('s1')).to.deep.equal(session('s1', 'u1'));
    expect(await sessions.findByUid('u1')).to.deep.equal(session('s1', 'u1'));
    expect(await sessions.findByUid('u1')).to.deep.equal(session('s1', 'u1'));
    expect(store.reads).to.deep.equal({ find: 1, findByUid: 1 });
  });

  it('never caches a miss: a record written by another process is found at once', async () => {
    expect(await sessions.find('s1')).to.equal(undefined);
    await store.adapter.upsert('s1', session('s1', 'u1'), 60);
    expect(await sessions.find('s1')).to.have.property('uid', 'u1');
  });

  it('passes other models through untouched', () => {
    const tokens = fakeStore().adapter;
    expect(cache.wrap('RefreshToken', tokens)).to.equal(tokens);
  });

  for (const write of ['upsert', 'destroy', 'consume'] as const) {
    it(`${write} drops the record under its id and its uid, and announces it`, async () => {
      await store.adapter.upsert('s1', session('s1', 'u1'), 60);
      await sessions.find('s1');
      await sessions.findByUid('u1');
      if (write === 'upsert') await sessions.upsert('s1', session('s1', 'u1', { accountId: 'bob' }), 60);
      if (write === 'destroy') await sessions.destroy('s1');
      if (write === 'consume') await sessions.consume('s1');
      const expected = write === 'destroy' ? undefined : write === 'upsert' ? 'bob' : 'alice';
      expect((await sessions.find('s1'))?.accountId).to.equal(expected);
      expect((await sessions.findByUid('u1'))?.accountId).to.equal(expected);
      // An upsert leaves what it wrote in the cache; the other writes make the next reads go to the store.
      expect(store.reads).to.deep.equal(write === 'upsert' ? { find: 1, findByUid: 1 } : { find: 2, findByUid: 2 });
      const keys = write === 'upsert' ? ['id:s1', 'uid:u1'] : ['id:s1'];
      expect(notices.map((notice) => JSON.parse(notice))).to.deep.equal([{ model: 'Session', keys }]);
    });
  }

  it('serves what an upsert wrote without a read, and does not announce a record the upsert created', async () => {
    await sessions.upsert('s1', session('s1', 'u1'), 60);
    expect(await sessions.find('s1')).to.deep.equal(session('s1', 'u1'));
    expect(await sessions.findByUid('u1')).to.deep.equal(session('s1', 'u1'));
    expect(store.reads).to.deep.equal({ find: 0, findByUid: 0 });
    // No instance can hold a record that did not exist (misses are never cached).
    expect(notices).to.deep.equal([]);
  });

  it('does not cache the payload of a write that overlapped another write of the same record', async () => {
    let finish: (() => void) | undefined;
    const slow = store.adapter.upsert.bind(store.adapter);
    store.adapter.upsert = async (id, payload, expiresIn) => {
      await new Promise<void>((resolve) => (finish = resolve));
      return slow(id, payload, expiresIn);
    };
    const first = sessions.upsert('s1', session('s1', 'u1', { accountId: 'first' }), 60);
    await tick();
    const release = finish!;
    store.adapter.upsert = slow;
    await sessions.upsert('s1', session('s1', 'u1', { accountId: 'second' }), 60);
    release();
    await first;
    // The store holds whichever landed last; the cache must not guess.
    expect(await sessions.find('s1')).to.have.property('accountId', 'first');
    expect(store.reads.find).to.equal(1);
  });

  it('does not cache the payload of a write that a notice from another instance overlapped', async () => {
    let finish: (() => void) | undefined;
    const slow = store.adapter.upsert.bind(store.adapter);
    store.adapter.upsert = async (id, payload, expiresIn) => {
      await new Promise<void>((resolve) => (finish = resolve));
      return slow(id, payload, expiresIn);
    };
    const writing = sessions.upsert('s1', session('s1', 'u1'), 60);
    await tick();
    cache.receive(JSON.stringify({ model: 'Session', keys: ['uid:u1'] }));
    finish!();
    await writing;
    await sessions.find('s1');
    expect(store.reads.find).to.equal(1);
  });

  for (const gap of ['suspend() and clear()', 'clear() (a flush notice)'] as const) {
    it(`does not cache the payload of a write that spanned ${gap}: notices missed meanwhile cannot have overlapped it`, async () => {
      let finish: (() => void) | undefined;
      const slow = store.adapter.upsert.bind(store.adapter);
      // The write lands at once; its answer is slow to come back.
      store.adapter.upsert = async (id, payload, expiresIn) => {
        const outcome = await slow(id, payload, expiresIn);
        await new Promise<void>((resolve) => (finish = resolve));
        return outcome;
      };
      const writing = sessions.upsert('s1', session('s1', 'u1', { accountId: 'here' }), 60);
      await tick();
      if (gap === 'suspend() and clear()') cache.suspend();
      // Meanwhile another instance's write of the same record lands after this one; its notice
      // never reaches this instance (the subscription was lost, or it was folded into a flush).
      store.records.set('s1', session('s1', 'u1', { accountId: 'there' }));
      cache.clear();
      finish!();
      await writing;
      expect(await sessions.find('s1')).to.have.property('accountId', 'there');
      expect(store.reads.find).to.equal(1);
    });
  }

  it('a write that fails still drops and announces the record (it may have landed)', async () => {
    await store.adapter.upsert('s1', session('s1', 'u1'), 60);
    await sessions.find('s1');
    store.adapter.destroy = async () => {
      throw new Error('connection lost after the delete');
    };
    await sessions.destroy('s1').then(
      () => expect.fail('the error must reach the caller'),
      () => {},
    );
    await sessions.find('s1');
    expect(store.reads.find).to.equal(2);
    expect(notices).to.have.length(1);
  });

  it('a revoked grant is dropped and announced', async () => {
    await grantStore.adapter.upsert('g1', grant('g1'), 60);
    expect(await grants.find('g1')).to.have.nested.property('openid.scope', 'openid');
    await grantStore.adapter.destroy('g1');
    await cache.grantRevoked('g1');
    expect(await grants.find('g1')).to.equal(undefined);
    expect(grantStore.reads.find).to.equal(2);
    expect(notices.map((notice) => JSON.parse(notice))).to.deep.equal([{ model: 'Grant', keys: ['id:g1'] }]);
  });

  for (const last of ['the revocation of its tokens', 'its destroy'] as const) {
    it(`a grant's tokens revoked while it is destroyed: one notice, sent when the last of the two (${last}) ends`, async () => {
      await grantStore.adapter.upsert('g1', grant('g1'), 60);
      await grants.find('g1');
      let endRevocation!: () => void;
      let endDestroy!: () => void;
      const revoked = cache.changingGrant('g1', () => new Promise<void>((resolve) => (endRevocation = resolve)));
      const destroyed = cache.changingGrant('g1', () => new Promise<void>((resolve) => (endDestroy = resolve)).then(() => grants.destroy('g1')));
      if (last === 'its destroy') endRevocation();
      else endDestroy();
      await (last === 'its destroy' ? revoked : destroyed);
      expect(notices, 'nothing announced while the other change runs').to.deep.equal([]);
      if (last === 'its destroy') endDestroy();
      else endRevocation();
      await Promise.all([revoked, destroyed]);
      expect(notices.map((notice) => JSON.parse(notice))).to.deep.equal([{ model: 'Grant', keys: ['id:g1'] }]);
      expect(await grants.find('g1')).to.equal(undefined);
    });
  }

  it('changes of two grants at once are announced each', async () => {
    let end!: () => void;
    const first = cache.changingGrant('g1', () => new Promise<void>((resolve) => (end = resolve)));
    await cache.changingGrant('g2', async () => {});
    end();
    await first;
    expect(notices.map((notice) => JSON.parse(notice).keys)).to.deep.equal([['id:g2'], ['id:g1']]);
  });

  it('a grant upsert is seen at once (wider scope)', async () => {
    await grants.upsert('g1', grant('g1'), 60);
    await grants.find('g1');
    await grants.upsert('g1', grant('g1', 'openid email'), 60);
    expect(await grants.find('g1')).to.have.nested.property('openid.scope', 'openid email');
  });

  it('a notice from another instance naming only the id drops the copy cached by uid, and vice versa', async () => {
    await store.adapter.upsert('s1', session('s1', 'u1'), 60);
    await store.adapter.upsert('s2', session('s2', 'u2'), 60);
    await sessions.findByUid('u1');
    await sessions.find('s2');
    await store.adapter.destroy('s1');
    await store.adapter.upsert('s2', session('s2', 'u2', { accountId: 'bob' }), 60);
    expect(await sessions.findByUid('u1')).to.have.property('uid', 'u1');
    cache.receive(JSON.stringify({ model: 'Session', keys: ['id:s1'] }));
    cache.receive(JSON.stringify({ model: 'Session', keys: ['uid:u2'] }));
    expect(await sessions.findByUid('u1')).to.equal(undefined);
    expect(await sessions.find('s2')).to.have.property('accountId', 'bob');
  });

  it('ignores malformed notices and notices for other models', async () => {
    await store.adapter.upsert('s1', session('s1', 'u1'), 60);
    await sessions.find('s1');
    cache.receive('not json');
    cache.receive(JSON.stringify({ model: 'Grant', keys: ['id:s1'] }));
    cache.receive(JSON.stringify({ keys: ['id:s1'] }));
    await sessions.find('s1');
    expect(store.reads.find).to.equal(1);
  });

  it('does not store a read that started before an invalidation of its id or, learned only from the result, its uid', async () => {
    await store.adapter.upsert('s1', session('s1', 'u1'), 60);
    store.hold();
    const byUid = sessions.findByUid('u1');
    const byId = sessions.find('s1');
    await tick();
    // Another instance destroyed the session; its notice names the id only.
    await store.adapter.destroy('s1');
    cache.receive(JSON.stringify({ model: 'Session', keys: ['id:s1'] }));
    // A reader arriving after the notice must not join the reads already in flight.
    const after = sessions.findByUid('u1');
    store.release();
    expect(await byUid).to.have.property('uid', 'u1');
    expect(await byId).to.have.property('uid', 'u1');
    expect(await after).to.equal(undefined);
    expect(await sessions.findByUid('u1')).to.equal(undefined);
    expect(await sessions.find('s1')).to.equal(undefined);
  });

  it('keeps storing reads of other records while unrelated records change', async () => {
    await store.adapter.upsert('s1', session('s1', 'u1'), 60);
    store.hold();
    const read = sessions.find('s1');
    await tick();
    await sessions.upsert('s9', session('s9', 'u9'), 60);
    store.release();
    await read;
    await sessions.find('s1');
    expect(store.reads.find).to.equal(1);
  });

  it('holds no more than maxEntries records per model, dropping the oldest', async () => {
    open(60, 2);
    for (const id of ['s1', 's2', 's3']) await store.adapter.upsert(id, session(id, `u-${id}`), 60);
    await sessions.find('s1');
    await sessions.find('s2');
    await sessions.find('s3');
    await sessions.find('s3');
    await sessions.find('s2');
    expect(store.reads.find).to.equal(3);
    await sessions.find('s1');
    expect(store.reads.find).to.equal(4);
  });

  it('serves a record no longer than the TTL, nor past its own expiry', async () => {
    let clock = NOW_MS;
    open(5, undefined, () => clock);
    const soon = Math.floor(clock / 1000) + 2;
    await store.adapter.upsert('s1', session('s1', 'u1'), 60);
    await store.adapter.upsert('s2', session('s2', 'u2', { exp: soon }), 60);
    await sessions.find('s1');
    await sessions.find('s2');
    clock += 1000;
    await sessions.find('s1');
    await sessions.find('s2');
    expect(store.reads.find).to.equal(2);
    clock = soon * 1000;
    await sessions.find('s2');
    expect(store.reads.find).to.equal(3);
    clock += 4000;
    await sessions.find('s1');
    expect(store.reads.find).to.equal(4);
  });

  it('with TTL 0 reads the store every time but still announces writes', async () => {
    open(0);
    await store.adapter.upsert('s1', session('s1', 'u1'), 60);
    await sessions.upsert('s1', session('s1', 'u1'), 60);
    await sessions.find('s1');
    await sessions.find('s1');
    await sessions.findByUid('u1');
    await sessions.findByUid('u1');
    expect(store.reads).to.deep.equal({ find: 2, findByUid: 2 });
    expect(notices).to.have.length(1);
  });

  it('clear() forgets everything, including reads in flight', async () => {
    await store.adapter.upsert('s1', session('s1', 'u1'), 60);
    await sessions.find('s1');
    store.hold();
    const read = sessions.findByUid('u1');
    await tick();
    cache.clear();
    store.release();
    await read;
    await sessions.find('s1');
    await sessions.findByUid('u1');
    expect(store.reads).to.deep.equal({ find: 2, findByUid: 2 });
  });
});

describe('Access-token record cache (AccessToken, ClientCredentials)', () => {
  let accessStore: ReturnType<typeof fakeStore>;
  let machineStore: ReturnType<typeof fakeStore>;
  let notices: string[];
  let cache: RecordCache;
  let accessTokens: Adapter;
  let machineTokens: Adapter;
  const accessToken = (id: string, grantId: string) => ({ jti: id, kind: 'AccessToken', grantId, accountId: 'alice', clientId: 'web', exp: LATER, scope: 'openid' }) as AdapterPayload;
  const machineToken = (id: string, clientId: string) => ({ jti: id, kind: 'ClientCredentials', clientId, exp: LATER, scope: 'read' }) as AdapterPayload;

  beforeEach(() => {
    accessStore = fakeStore();
    machineStore = fakeStore();
    notices = [];
    cache = createRecordCache({ ttlSeconds: 60, now: () => NOW_MS, announce: async (notice) => void notices.push(notice) });
    accessTokens = cache.wrap('AccessToken', accessStore.adapter);
    machineTokens = cache.wrap('ClientCredentials', machineStore.adapter);
  });

  it('serves a token read again from memory, and does not keep tokens at issuance (most are never read here)', async () => {
    await accessTokens.upsert('t1', accessToken('t1', 'g1'), 60);
    expect(notices, 'a created token is not announced').to.deep.equal([]);
    expect(await accessTokens.find('t1')).to.deep.equal(accessToken('t1', 'g1'));
    expect(await accessTokens.find('t1')).to.deep.equal(accessToken('t1', 'g1'));
    expect(accessStore.reads.find).to.equal(1);
  });

  it('a notice about its grant drops every cached token of that grant, and only those', async () => {
    await accessStore.adapter.upsert('t1', accessToken('t1', 'g1'), 60);
    await accessStore.adapter.upsert('t2', accessToken('t2', 'g1'), 60);
    await accessStore.adapter.upsert('t3', accessToken('t3', 'g2'), 60);
    for (const id of ['t1', 't2', 't3']) await accessTokens.find(id);
    await accessStore.adapter.revokeByGrantId('g1');
    accessStore.records.delete('t1');
    accessStore.records.delete('t2');
    cache.receive(JSON.stringify({ model: 'Grant', keys: ['id:g1'] }));
    expect(await accessTokens.find('t1')).to.equal(undefined);
    expect(await accessTokens.find('t2')).to.equal(undefined);
    expect(await accessTokens.find('t3')).to.have.property('grantId', 'g2');
    expect(accessStore.reads.find).to.equal(5);
  });

  it('grantRevoked drops the grant\'s tokens here and announces the grant', async () => {
    await accessStore.adapter.upsert('t1', accessToken('t1', 'g1'), 60);
    await accessTokens.find('t1');
    accessStore.records.delete('t1');
    await cache.grantRevoked('g1');
    expect(await accessTokens.find('t1')).to.equal(undefined);
    expect(notices.map((notice) => JSON.parse(notice))).to.deep.equal([{ model: 'Grant', keys: ['id:g1'] }]);
  });

  it('a token read in flight when its grant is revoked is not kept', async () => {
    await accessStore.adapter.upsert('t1', accessToken('t1', 'g1'), 60);
    accessStore.hold();
    const read = accessTokens.find('t1');
    await tick();
    cache.receive(JSON.stringify({ model: 'Grant', keys: ['id:g1'] }));
    accessStore.records.delete('t1');
    accessStore.release();
    expect(await read, 'the read began before the revocation').to.have.property('jti', 't1');
    expect(await accessTokens.find('t1')).to.equal(undefined);
  });

  it('destroying a token (revocation endpoint) drops and announces it', async () => {
    await accessStore.adapter.upsert('t1', accessToken('t1', 'g1'), 60);
    await accessTokens.find('t1');
    await accessTokens.destroy('t1');
    expect(await accessTokens.find('t1')).to.equal(undefined);
    expect(notices.map((notice) => JSON.parse(notice))).to.deep.equal([{ model: 'AccessToken', keys: ['id:t1'] }]);
  });

  it('clientTokensRevoked drops that client\'s cached machine tokens and announces the client', async () => {
    await machineStore.adapter.upsert('m1', machineToken('m1', 'svc'), 60);
    await machineStore.adapter.upsert('m2', machineToken('m2', 'other'), 60);
    await machineTokens.find('m1');
    await machineTokens.find('m2');
    machineStore.records.delete('m1');
    await cache.clientTokensRevoked('svc');
    expect(await machineTokens.find('m1')).to.equal(undefined);
    expect(await machineTokens.find('m2')).to.have.property('clientId', 'other');
    expect(machineStore.reads.find).to.equal(3);
    expect(notices.map((notice) => JSON.parse(notice))).to.deep.equal([{ model: 'ClientCredentials', keys: ['client:svc'] }]);
  });

  it('an id cached as one token model is absent from the other without a read (introspection asks both)', async () => {
    await machineStore.adapter.upsert('m1', machineToken('m1', 'svc'), 60);
    expect(await accessTokens.find('m1')).to.equal(undefined);
    await machineTokens.find('m1');
    expect(await accessTokens.find('m1')).to.equal(undefined);
    expect(await machineTokens.find('m1')).to.have.property('clientId', 'svc');
    expect(accessStore.reads.find, 'only the read before m1 was known').to.equal(1);
    expect(machineStore.reads.find).to.equal(1);
  });

  it('remembers that a JWT has no revocation tombstone; a tombstone\'s creation is announced (and drops that memory here)', async () => {
    expect(await machineTokens.find('tomb1')).to.equal(undefined);
    expect(await machineTokens.find('tomb1')).to.equal(undefined);
    expect(machineStore.reads.find, 'the absence is cached').to.equal(1);
    await machineTokens.upsert('tomb1', { jti: 'tomb1', kind: 'JwtRevocation', exp: LATER }, 60);
    expect(notices.map((notice) => JSON.parse(notice))).to.deep.equal([{ model: 'ClientCredentials', keys: ['id:tomb1'] }]);
    expect(await machineTokens.find('tomb1')).to.have.property('kind', 'JwtRevocation');
    // Another instance held the absence too: the notice drops it there.
    const other = createRecordCache({ ttlSeconds: 60, now: () => NOW_MS });
    const otherTokens = other.wrap('ClientCredentials', machineStore.adapter);
    machineStore.records.delete('tomb2');
    expect(await otherTokens.find('tomb2')).to.equal(undefined);
    await machineStore.adapter.upsert('tomb2', { jti: 'tomb2', kind: 'JwtRevocation', exp: LATER }, 60);
    other.receive(JSON.stringify({ model: 'ClientCredentials', keys: ['id:tomb2'] }));
    expect(await otherTokens.find('tomb2')).to.have.property('kind', 'JwtRevocation');
  });

  it('issuing an opaque machine token announces nothing; access-token misses are never cached', async () => {
    await machineTokens.upsert('m1', machineToken('m1', 'svc'), 60);
    expect(notices).to.deep.equal([]);
    expect(await accessTokens.find('t1')).to.equal(undefined);
    await accessStore.adapter.upsert('t1', accessToken('t1', 'g1'), 60);
    expect(await accessTokens.find('t1')).to.have.property('jti', 't1');
  });

  it('a token is never served past its own exp', async () => {
    let now = NOW_MS;
    cache = createRecordCache({ ttlSeconds: 3600, now: () => now });
    accessTokens = cache.wrap('AccessToken', accessStore.adapter);
    await accessStore.adapter.upsert('t1', { ...accessToken('t1', 'g1'), exp: NOW_MS / 1000 + 30 }, 60);
    await accessTokens.find('t1');
    now += 31_000;
    await accessTokens.find('t1');
    expect(accessStore.reads.find).to.equal(2);
  });
});
