import { expect } from 'chai';
import type { Connection } from 'mongoose';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { exchangedFrom, exchangedGrantsPrefix, exchangeGrantId } from '../../src/oidc/grants/token-exchange.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { DependedOnGrantGoneError, withDependentGrants, type DependentGrantsAdapter, type DependentGrantsRevoked } from '../../src/storage/oidc/dependent-grants.ts';
import { createMongoAdapterFactory } from '../../src/storage/oidc/mongo-adapter.ts';
import { ensureOidcIndexes } from '../../src/storage/oidc/mongo-indexes.ts';
import { collectionName } from '../../src/storage/oidc/models.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const ACCOUNT = 'account-1';

/**
 * The Grant adapter with its dependents (dependent-grants.ts) on the project's MongoDB-wire
 * server, with a seam in the store underneath: a token exchange is made at a chosen step of a
 * removal, never by timing.
 */
describe('grants that depend on a grant (token exchange): a removal and an exchange at the same time', () => {
  const database = databaseForSuite('dependent_grants');
  let connection: Connection;
  /** Runs inside the store's destroy of the given grant: before it (`before`) or after it (`after`). */
  let seam: { grantId: string; before?: () => Promise<void>; after?: () => Promise<void> } | undefined;
  let grants: DependentGrantsAdapter;
  const reported: DependentGrantsRevoked[] = [];

  const now = () => Math.floor(Date.now() / 1000);
  const payload = (id: string, clientId = 'app'): AdapterPayload => ({ kind: 'Grant', jti: id, iat: now(), exp: now() + 600, accountId: ACCOUNT, clientId }) as AdapterPayload;
  const stored = async () => (await connection.db!.collection<{ _id: string }>(collectionName('Grant')).find({ accountId: ACCOUNT } as never).toArray()).map((doc) => doc._id).sort();

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    await ensureOidcIndexes(connection);
    const store = createMongoAdapterFactory({ connection, reuseWindowSeconds: 0 })('Grant');
    const seamed: Adapter = {
      ...store,
      async destroy(id) {
        const at = seam?.grantId === id ? seam : undefined;
        await at?.before?.();
        await store.destroy(id);
        await at?.after?.();
      },
    };
    grants = withDependentGrants(seamed, {
      mongo: connection,
      prefixOf: exchangedGrantsPrefix,
      dependsOn: exchangedFrom,
      revokeTokens: async () => {},
      revoked: (event) => void reported.push(event),
    });
  });
  after(async () => {
    await connection?.close();
  });
  beforeEach(async () => {
    seam = undefined;
    reported.length = 0;
    await connection.db!.collection(collectionName('Grant')).deleteMany({});
  });

  async function original(): Promise<string> {
    const id = `grant-${Math.random().toString(36).slice(2, 10)}`;
    await grants.upsert(id, payload(id), 600);
    return id;
  }

  it('an exchange saved after the removal looked for exchanges, while the original still stood, is removed by its second look', async () => {
    const grantId = await original();
    const before = exchangeGrantId(grantId, 'app');
    await grants.upsert(before, payload(before, 'caller'), 60);
    const meanwhile = exchangeGrantId(grantId, 'app');
    seam = { grantId, before: () => grants.upsert(meanwhile, payload(meanwhile, 'caller'), 60) };

    expect(await grants.destroyOf(grantId, ACCOUNT)).to.equal(true);
    expect(await stored()).to.deep.equal([]);
    expect(reported.map((event) => event.ids)).to.deep.equal([[before], [meanwhile]]);
  });

  it('an exchange saved after the original went is refused and leaves nothing', async () => {
    const grantId = await original();
    const meanwhile = exchangeGrantId(grantId, 'app');
    let refused: unknown;
    seam = {
      grantId,
      after: async () => {
        refused = await grants.upsert(meanwhile, payload(meanwhile, 'caller'), 60).then(() => undefined, (error: unknown) => error);
      },
    };

    expect(await grants.destroyOf(grantId, ACCOUNT)).to.equal(true);
    expect(refused).to.be.instanceOf(DependedOnGrantGoneError);
    expect(await stored()).to.deep.equal([]);
  });

  it("an exchange of an exchange saved while its own original is removed: removed or refused, never left", async () => {
    const grantId = await original();
    const middle = exchangeGrantId(grantId, 'app');
    await grants.upsert(middle, payload(middle, 'caller'), 60);
    const deeper = exchangeGrantId(middle, 'caller');
    seam = { grantId: middle, before: () => grants.upsert(deeper, payload(deeper, 'other'), 60) };

    expect(await grants.destroyOf(middle, ACCOUNT)).to.equal(true);
    expect(await stored()).to.deep.equal([grantId]);
  });

  it('a grant of another user, or none, is not removed: false', async () => {
    const grantId = await original();
    expect(await grants.destroyOf(grantId, 'account-2')).to.equal(false);
    expect(await grants.destroyOf('no-such-grant', ACCOUNT)).to.equal(false);
    expect(await stored()).to.deep.equal([grantId]);
  });
});
