import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createLastLoginWriter, type LastLoginWriter } from '../../src/accounts/last-login.ts';
import { createSignIns, signInModel } from '../../src/accounts/sign-ins.ts';
import { userDeletion } from '../../src/operations/user-deletion.ts';
import { createSessionDevices, type SessionDevices } from '../../src/sessions/devices.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { instanceForSuite, PASSWORD } from '../helpers/e2e.ts';

const quiet = { warn: () => {}, info: () => {} };
const ctx = { actor: { type: 'system' as const, id: 'test' } };
const AGENT = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0';

/**
 * Last sign-in times and session devices are written in batches, a second after the sign-in, by
 * whichever instance served it. A batch noted before a user's deletion and written after it (or
 * while it runs, between the erasure of the user's records and the removal of the user) must not
 * leave a row naming a user that no longer exists. The batches here are another instance's
 * (writers of their own on the same database, their timers never firing): the test decides when
 * they write, no sleeps.
 */
describe('deleting a user while another instance holds a batched write for them (real stores)', function () {
  this.timeout(60_000);
  const suite = instanceForSuite('deletion_late_writes');
  let connection: Connection;
  let lastLogins: LastLoginWriter;
  let devices: SessionDevices;
  let serial = 0;

  before(async () => {
    connection = await connectMongo({ uri: suite.deploy.mongodbUri, timeoutMs: 5000 });
    lastLogins = createLastLoginWriter({ signIns: createSignIns(signInModel(connection)), logger: quiet, flushIntervalMs: 3_600_000 });
    devices = await createSessionDevices({ connection, logger: quiet, flushIntervalMs: 3_600_000, indexes: false });
  });
  after(async () => {
    await lastLogins?.close();
    await devices?.close();
    await connection?.close();
  });

  const rowsOf = async (userId: string) => ({
    user_sign_ins: await connection.db!.collection('user_sign_ins').countDocuments({ _id: userId } as never),
    session_devices: await connection.db!.collection('session_devices').countDocuments({ userId }),
  });
  const newUser = async () => (await suite.gatehouse.services.accounts.createUser({ username: `late-${++serial}`, password: PASSWORD })).id;
  /** The other instance notes a sign-in of the user: a new session and a use of an older one. */
  const noteSignIn = (userId: string) => {
    lastLogins.record(userId, new Date());
    devices.seen(`new-session-of-${userId}`, userId, '198.51.100.7', AGENT, true);
    devices.seen(`old-session-of-${userId}`, userId, '198.51.100.7', AGENT);
  };
  const writeBatches = () => Promise.all([lastLogins.flush(), devices.flush()]);

  it('a batch noted before the deletion and written after it leaves no row behind', async () => {
    const id = await newUser();
    noteSignIn(id);
    await userDeletion(suite.gatehouse.services)(ctx, id);
    await writeBatches();
    expect(await rowsOf(id)).to.deep.equal({ user_sign_ins: 0, session_devices: 0 });
  });

  it('a batch written while the deletion runs (after the records were erased, before the user went) leaves no row behind', async () => {
    const id = await newUser();
    noteSignIn(id);
    const { services } = suite.gatehouse;
    // The deletion's last step waits for the other instance's batch: it lands after the erasure, and is checked before the user is gone.
    const deleting = userDeletion({
      ...services,
      accounts: {
        ...services.accounts,
        remove: async (userId: string) => {
          await writeBatches();
          expect(await rowsOf(id), 'the late batch landed after the erasure').to.deep.equal({ user_sign_ins: 1, session_devices: 2 });
          return services.accounts.remove(userId);
        },
      },
    });
    await deleting(ctx, id);
    expect(await rowsOf(id)).to.deep.equal({ user_sign_ins: 0, session_devices: 0 });
  });

  it("a batch that also carries other users' sign-ins keeps theirs", async () => {
    const [gone, kept] = [await newUser(), await newUser()];
    noteSignIn(gone);
    noteSignIn(kept);
    await userDeletion(suite.gatehouse.services)(ctx, gone);
    await writeBatches();
    expect(await rowsOf(gone)).to.deep.equal({ user_sign_ins: 0, session_devices: 0 });
    expect(await rowsOf(kept)).to.deep.equal({ user_sign_ins: 1, session_devices: 2 });
  });
});
