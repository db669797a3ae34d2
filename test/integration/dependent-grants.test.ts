import { expect } from 'chai';
import type { Connection } from 'mongoose';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { deepestFirst, exchangedGrantsPrefix, exchangeGrantId, originalGrantId, parentsAmong } from '../../src/oidc/grants/exchanged-grant-ids.ts';
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
      firstOf: originalGrantId,
      parentsAmong,
      deepestFirst,
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

    expect(await grants.destroyOf(grantId, ACCOUNT)).to.deep.equal({ accountId: ACCOUNT });
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

    expect(await grants.destroyOf(grantId, ACCOUNT)).to.deep.equal({ accountId: ACCOUNT });
    expect(refused).to.be.instanceOf(DependedOnGrantGoneError);
    expect(await stored()).to.deep.equal([]);
  });

  it("an exchange of an exchange saved while its own original is removed: removed or refused, never left", async () => {
    const grantId = await original();
    const middle = exchangeGrantId(grantId, 'app');
    await grants.upsert(middle, payload(middle, 'caller'), 60);
    const deeper = exchangeGrantId(middle, 'caller');
    seam = { grantId: middle, before: () => grants.upsert(deeper, payload(deeper, 'other'), 60) };

    expect(await grants.destroyOf(middle, ACCOUNT)).to.deep.equal({ accountId: ACCOUNT, dependedOn: grantId });
    expect(await stored()).to.deep.equal([grantId]);
  });

  it('removing an exchange in the middle of a chain removes what was exchanged from it, deepest first, not its parent nor its siblings', async () => {
    const grantId = await original();
    const middle = exchangeGrantId(grantId, 'app');
    const sibling = exchangeGrantId(grantId, 'app');
    const deeper = exchangeGrantId(middle, 'caller');
    const deepest = exchangeGrantId(deeper, 'other');
    const besideDeeper = exchangeGrantId(sibling, 'caller');
    for (const id of [middle, sibling, deeper, deepest, besideDeeper]) await grants.upsert(id, payload(id, 'caller'), 60);
    const removed: string[] = [];
    seam = { grantId: deeper, before: async () => void removed.push(...(await stored())) };

    expect(await grants.destroyOf(middle, ACCOUNT)).to.deep.equal({ accountId: ACCOUNT, dependedOn: grantId });
    expect(await stored()).to.deep.equal([grantId, sibling, besideDeeper].sort());
    expect(removed, 'the deepest went before the grant it was exchanged from').to.not.include(deepest);
    expect(reported.map((event) => [event.grantId, [...event.ids].sort(), event.parents.get(deepest)])).to.deep.equal([[middle, [deeper, deepest].sort(), deeper]]);
  });

  it("an earlier version's ids (each exchange of an exchange appended) still go with the grant they were exchanged from, and an exchange made from one of them", async () => {
    const grantId = await original();
    const first = `${grantId}~x~AbCdEfGhIjKlMnOp.YXBw`;
    const second = `${first}~x~QrStUvWxYz012345.Y2FsbGVy`;
    const third = exchangeGrantId(second, 'caller');
    for (const id of [first, second, third]) await grants.upsert(id, payload(id, 'caller'), 60);
    expect(await stored()).to.deep.equal([grantId, first, second, third].sort());

    expect(await grants.destroyOf(second, ACCOUNT)).to.deep.equal({ accountId: ACCOUNT, dependedOn: first });
    expect(await stored(), 'what stood on the grant removed').to.deep.equal([grantId, first].sort());
    expect(await grants.destroyOf(grantId, ACCOUNT)).to.deep.equal({ accountId: ACCOUNT });
    expect(await stored()).to.deep.equal([]);
  });

  it('an exchange is refused once any grant of its chain is gone, not only the first', async () => {
    const grantId = await original();
    const middle = exchangeGrantId(grantId, 'app');
    await grants.upsert(middle, payload(middle, 'caller'), 60);
    const deeper = exchangeGrantId(middle, 'caller');
    await connection.db!.collection(collectionName('Grant')).deleteOne({ _id: middle } as never);
    const refused = await grants.upsert(deeper, payload(deeper, 'other'), 60).then(() => undefined, (error: unknown) => error);
    expect(refused).to.be.instanceOf(DependedOnGrantGoneError);
    expect(await stored()).to.deep.equal([grantId]);
  });

  it("the look for a chain's grants is served by an index on FerretDB with PostgreSQL (explain)", async () => {
    const grantId = await original();
    const prefix = exchangedGrantsPrefix(grantId);
    const explained = await connection.db!.command({ explain: { find: collectionName('Grant'), filter: { accountId: ACCOUNT, _id: { $gte: grantId, $lt: `${prefix.slice(0, -1)}\x7f` } } } });
    const plan = JSON.stringify(explained);
    if ((explained.serverInfo as { ferretdbVersion?: string } | undefined)?.ferretdbVersion !== undefined) {
      // The accountId equality pushed down to PostgreSQL and served by its GIN index (scripts/ferretdb-postgresql-indexes.sql); the _id range checked on the user's grants only.
      expect(explained.filterPushdown, plan).to.equal(true);
      expect(plan).to.include('Bitmap Index Scan').and.not.include('Seq Scan');
    } else expect(plan).to.include('IXSCAN').and.not.include('COLLSCAN');
  });

  it('a grant of another user, or none, is not removed', async () => {
    const grantId = await original();
    expect(await grants.destroyOf(grantId, 'account-2')).to.equal(undefined);
    expect(await grants.destroyOf('no-such-grant', ACCOUNT)).to.equal(undefined);
    expect(await stored()).to.deep.equal([grantId]);
  });
});
