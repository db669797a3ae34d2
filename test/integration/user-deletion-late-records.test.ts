import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createSecretBox } from '../../src/crypto/secret-box.ts';
import { userDeletion } from '../../src/operations/user-deletion.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { createUpstreamSessions, type UpstreamSessions } from '../../src/upstream/sessions.ts';
import { instanceForSuite, PASSWORD } from '../helpers/e2e.ts';
import { randomSecret } from '../helpers/stores.ts';

const ctx = { actor: { type: 'system' as const, id: 'test' } };

/**
 * Besides the batched sign-in rows (user-deletion-late-writes.test.ts), a request that found the
 * user before the deletion disabled them may write a per-user row after the deletion erased
 * them: a consent (the consent page's Allow, an import), the upstream session behind a sign-in,
 * an upstream link, a link ticket. The test decides when that write lands, no sleeps.
 */
describe('deleting a user while a request still writes a per-user row for them (real stores)', function () {
  this.timeout(60_000);
  const suite = instanceForSuite('deletion_late_records');
  let connection: Connection;
  let upstreamSessions: UpstreamSessions;
  let serial = 0;

  before(async () => {
    connection = await connectMongo({ uri: suite.deploy.mongodbUri, timeoutMs: 5000 });
    upstreamSessions = createUpstreamSessions({ mongo: connection, box: createSecretBox(randomSecret(), 'upstream-sessions') });
  });
  after(async () => {
    await connection?.close();
  });

  const count = (collection: string, filter: Record<string, unknown>) => connection.db!.collection(collection).countDocuments(filter);
  const rowsOf = async (userId: string) => ({
    user_consents: await count('user_consents', { accountId: userId }),
    upstream_sessions: await count('upstream_sessions', { account_id: userId }),
    upstream_links: await count('upstream_links', { user_id: userId }),
    upstream_link_tickets: await count('upstream_link_tickets', { user_id: userId }),
  });
  const none = { user_consents: 0, upstream_sessions: 0, upstream_links: 0, upstream_link_tickets: 0 };
  const newUser = async () => (await suite.gatehouse.services.accounts.createUser({ username: `late-record-${++serial}`, password: PASSWORD })).id;
  /** The writes of requests that read the user before the deletion began. */
  const lateWrites = async (userId: string) => {
    const { services } = suite.gatehouse;
    await services.consents.add(userId, 'late-client', { scopes: ['openid'], claims: [], resources: {} });
    await upstreamSessions.remember(`session-of-${userId}`, { provider: 'corp', accountId: userId, idToken: undefined }, new Date(Date.now() + 3_600_000));
    await services.upstream.link('corp', `subject-of-${userId}`, userId);
    await services.upstreamLinkTickets.issue({ userId, provider: 'corp' });
  };

  it('the rows of a living user are kept', async () => {
    const id = await newUser();
    await lateWrites(id);
    expect(await rowsOf(id)).to.deep.equal({ user_consents: 1, upstream_sessions: 1, upstream_links: 1, upstream_link_tickets: 1 });
  });

  it('written after the deletion: no row names the deleted user, and the upstream identity is free to link again', async () => {
    const id = await newUser();
    await userDeletion(suite.gatehouse.services)(ctx, id);
    await lateWrites(id);
    expect(await rowsOf(id)).to.deep.equal(none);
    const other = await newUser();
    await suite.gatehouse.services.upstream.link('corp', `subject-of-${id}`, other);
    expect(await count('upstream_links', { user_id: other })).to.equal(1);
  });

  it('written while the deletion runs (after the records were erased, before the user went): no row is left', async () => {
    const id = await newUser();
    const { services } = suite.gatehouse;
    const deleting = userDeletion({
      ...services,
      accounts: {
        ...services.accounts,
        remove: async (userId: string) => {
          await lateWrites(id);
          expect(await rowsOf(id), 'the late writes landed after the erasure').to.deep.equal({ user_consents: 1, upstream_sessions: 1, upstream_links: 1, upstream_link_tickets: 1 });
          return services.accounts.remove(userId);
        },
      },
    });
    await deleting(ctx, id);
    expect(await rowsOf(id)).to.deep.equal(none);
  });
});
