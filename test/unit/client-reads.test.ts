import { expect } from 'chai';
import type { Connection } from 'mongoose';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { createBoundedCache } from '../../src/cache/bounded-cache.ts';
import { clientProviderAdapter, type ClientAdapter } from '../../src/clients/provider-adapter.ts';
import type { ClientRepository } from '../../src/clients/repository.ts';
import { StoreUnavailableError } from '../../src/errors/store-unavailable.ts';
import { createAdapterFactory } from '../../src/storage/oidc/adapter-factory.ts';

/** The adapter factory's Client model over a clients adapter of the test's own (no other store is touched). */
function clientModel(clients: ClientAdapter): Adapter {
  // The MongoDB connection is only opened by models stored there; the Client model never is.
  return createAdapterFactory({ mongo: {} as Connection, redisPrefix: 'test:', reuseWindowSeconds: 0, clients })('Client');
}

const unused = async (): Promise<never> => {
  throw new Error('not used');
};
const adapterWith = (find: ClientAdapter['find']): ClientAdapter => ({ find, findByUid: unused, findByUserCode: unused, upsert: unused, consume: unused, destroy: unused, revokeByGrantId: unused });

describe('Client reads through the adapter factory', () => {
  it('hands a client the clients adapter has in memory on as it is, without a promise', async () => {
    const record = { client_id: 'app' };
    const found = clientModel(adapterWith(() => record)).find('app');
    expect(found, 'the record itself').to.equal(record);
    expect(await found).to.equal(record);
  });

  it('still reads a store failure of a pending read as a store outage (503), and adopts a query-like thenable', async () => {
    const outage = Object.assign(new Error('connection refused'), { name: 'MongoNetworkError' });
    const failing = clientModel(adapterWith(() => Promise.reject(outage))).find('app');
    expect(failing).to.be.instanceOf(Promise);
    let caught: unknown;
    try {
      await failing;
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(StoreUnavailableError);
    const thenable = { then: (resolve: (value: AdapterPayload) => void) => resolve({ client_id: 'later' }) };
    const adopted = clientModel(adapterWith(() => thenable as unknown as Promise<AdapterPayload>)).find('app');
    expect(adopted).to.be.instanceOf(Promise);
    expect(await adopted).to.deep.equal({ client_id: 'later' });
  });

  it("serves the clients cache's current record: a registration's change is read at once, never the copy before it", async () => {
    let name = 'first';
    const cache = createBoundedCache<AdapterPayload>({ load: async (clientId) => ({ client_id: clientId, client_name: name }), ttlMs: 60_000, maxEntries: 10, cacheMisses: true });
    const repository = { saveRegistered: async () => undefined } as unknown as ClientRepository;
    const model = clientModel(clientProviderAdapter(repository, cache));
    expect(await model.find('app')).to.deep.include({ client_name: 'first' });
    expect(model.find('app'), 'a hit, at once').to.deep.include({ client_name: 'first' });
    name = 'second';
    await model.upsert('app', { client_id: 'app', client_name: 'second' }, 0);
    const after = model.find('app');
    expect(after, 'reloaded after the change').to.be.instanceOf(Promise);
    expect(await after).to.deep.include({ client_name: 'second' });
    expect(model.find('app')).to.deep.include({ client_name: 'second' });
  });
});
