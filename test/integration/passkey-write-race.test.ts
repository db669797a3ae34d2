import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { auditPasskeys } from '../../src/mfa/audit.ts';
import { createPasskeys, type PasskeyEvent, type Passkeys } from '../../src/mfa/passkeys.ts';
import type { AuditInput } from '../../src/observability/audit-input.ts';
import { documentLocks, type DocumentLocks } from '../../src/storage/document-locks.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { softAuthenticator } from '../helpers/soft-authenticator.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const ROUNDS = 30;
const ISSUER = 'http://localhost:3000';

const b64url = (bytes: Buffer) => bytes.toString('base64url');

/**
 * FerretDB v1 rewrites the whole document on every update: a passkey sign-in's counter update
 * racing a rename of the same passkey could put the old name (or the old counter) back. Both
 * hold the passkey's lock (src/storage/document-locks.ts); both must survive every round.
 */
describe('a passkey sign-in racing a rename of the same passkey (real MongoDB-wire server)', function () {
  this.timeout(120_000);
  const database = databaseForSuite('passkey_race');
  let connection: Connection;
  let passkeys: Passkeys;

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    passkeys = await createPasskeys({ connection, issuer: ISSUER, rpName: 'Gatehouse' });
  });
  after(async () => {
    await connection.close();
  });

  it(`keeps both the new sign counter and the new name (${ROUNDS} rounds)`, async () => {
    const authenticator = softAuthenticator(ISSUER);
    const userId = 'passkey-racer';
    const credentialId = b64url(Buffer.from('race-credential'));
    await connection.collection('mfa_passkeys').insertOne({
      _id: credentialId as never,
      userId,
      publicKey: authenticator.publicKey,
      counter: 0,
      transports: [],
      name: 'Key',
      deviceType: 'singleDevice',
      createdAt: new Date(),
      lastUsedAt: null,
    });
    const challenge = b64url(Buffer.from('a challenge bound to an interaction'));
    const lost: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const [check] = await Promise.all([
        passkeys.authenticate(authenticator.assert(credentialId, userId, challenge, round), challenge, userId),
        passkeys.rename(userId, credentialId, `Key ${round}`),
      ]);
      expect(check.ok, `round ${round}: the assertion verifies`).to.equal(true);
      const stored = await connection.collection('mfa_passkeys').findOne({ _id: credentialId as never });
      if (stored?.counter !== round) lost.push(`${round}: counter ${stored?.counter}`);
      if (stored?.name !== `Key ${round}`) lost.push(`${round}: name ${stored?.name}`);
    }
    expect(lost, 'rounds that lost the counter or the name').to.deep.equal([]);
  });
});

/**
 * WebAuthn §6.1.1 / §7.2 step 21: a sign counter that does not grow past the stored one means a
 * cloned authenticator may be in use. Two assertions carrying the same counter each verify
 * against the counter read before either is stored; the store must take only the first of them
 * (a compare under the passkey's lock) and the other is refused as a possible clone, and reported.
 */
describe('two assertions of one passkey carrying the same sign counter (real MongoDB-wire server)', function () {
  this.timeout(120_000);
  const database = databaseForSuite('passkey_counter');
  let connection: Connection;
  const events: PasskeyEvent[] = [];

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
  });
  after(async () => {
    await connection.close();
  });
  beforeEach(() => {
    events.length = 0;
  });

  const challenge = b64url(Buffer.from('a challenge bound to an interaction'));

  async function storedPasskey(label: string, counter: number) {
    const authenticator = softAuthenticator(ISSUER);
    const userId = `counter-${label}`;
    const credentialId = b64url(Buffer.from(`counter-${label}-${Math.random()}`));
    await connection.collection('mfa_passkeys').insertOne({
      _id: credentialId as never,
      userId,
      publicKey: authenticator.publicKey,
      counter,
      transports: [],
      name: 'Key',
      deviceType: 'singleDevice',
      createdAt: new Date(),
      lastUsedAt: null,
    });
    const assertion = (count: number) => authenticator.assert(credentialId, userId, challenge, count);
    const stored = async () => (await connection.collection('mfa_passkeys').findOne({ _id: credentialId as never }))?.counter as number;
    return { userId, credentialId, assertion, stored };
  }

  /**
   * The passkey's real lock (src/storage/document-locks.ts), with the first holder let in only once
   * the second assertion has verified and asks for the lock too: both verified against the same
   * stored counter, and the first writes first.
   */
  function lockLettingBothVerifyFirst(): DocumentLocks {
    const real = documentLocks(connection);
    let arrivals = 0;
    let secondArrived!: () => void;
    const second = new Promise<void>((resolve) => (secondArrived = resolve));
    let firstHolds!: () => void;
    const first = new Promise<void>((resolve) => (firstHolds = resolve));
    return {
      holdFree: real.holdFree,
      async hold(key, work) {
        arrivals += 1;
        if (arrivals === 1) {
          await second;
          return real.hold(key, async () => {
            firstHolds();
            return work();
          });
        }
        if (arrivals === 2) {
          secondArrived();
          await first;
        }
        return real.hold(key, work);
      },
    };
  }

  it('takes the first and refuses the second as a possible clone when both verified against the same stored counter (ordered by the lock)', async () => {
    const audited: AuditInput[] = [];
    const audit = auditPasskeys({ record: (input) => audited.push(input) });
    const onEvent = (event: PasskeyEvent) => {
      events.push(event);
      audit(event);
    };
    const passkeys = await createPasskeys({ connection, issuer: ISSUER, rpName: 'Gatehouse', locks: lockLettingBothVerifyFirst(), onEvent });
    const key = await storedPasskey('ordered', 3);
    const [one, two] = await Promise.all([passkeys.authenticate(key.assertion(7), challenge, key.userId), passkeys.authenticate(key.assertion(7), challenge, key.userId)]);
    // Whichever verified first holds the lock first; the other is refused.
    expect([one.ok, two.ok].sort()).to.deep.equal([false, true]);
    expect(await key.stored()).to.equal(7);
    expect(events.map((event) => `${event.type} ${'reason' in event ? event.reason : ''}`.trim()).sort()).to.deep.equal(['passkey.failed possible_clone', 'passkey.used']);
    expect(audited.find((input) => input.type === 'mfa.failure')?.details).to.deep.equal({ method: 'passkey', passkey: key.credentialId, reason: 'passkey_possible_clone' });
  });

  it(`lets exactly one of two assertions with the same counter sent at once pass (${ROUNDS} rounds)`, async () => {
    const passkeys = await createPasskeys({ connection, issuer: ISSUER, rpName: 'Gatehouse', onEvent: (event) => events.push(event) });
    const key = await storedPasskey('at-once', 0);
    const wrong: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const checks = await Promise.all([passkeys.authenticate(key.assertion(round), challenge, key.userId), passkeys.authenticate(key.assertion(round), challenge, key.userId)]);
      const passed = checks.filter((check) => check.ok).length;
      if (passed !== 1) wrong.push(`round ${round}: ${passed} passed`);
    }
    expect(wrong).to.deep.equal([]);
    expect(await key.stored()).to.equal(ROUNDS);
  });

  it('passes every assertion of an authenticator that always sends 0 (it keeps no counter), one after another and at once', async () => {
    const passkeys = await createPasskeys({ connection, issuer: ISSUER, rpName: 'Gatehouse', locks: lockLettingBothVerifyFirst(), onEvent: (event) => events.push(event) });
    const key = await storedPasskey('zero', 0);
    const atOnce = await Promise.all([passkeys.authenticate(key.assertion(0), challenge, key.userId), passkeys.authenticate(key.assertion(0), challenge, key.userId)]);
    expect(atOnce.map((check) => check.ok)).to.deep.equal([true, true]);
    expect((await passkeys.authenticate(key.assertion(0), challenge, key.userId)).ok).to.equal(true);
    expect(await key.stored()).to.equal(0);
  });

  it('refuses a counter that went back to 0 once the passkey counted (and an old counter), as a possible clone', async () => {
    const passkeys = await createPasskeys({ connection, issuer: ISSUER, rpName: 'Gatehouse', onEvent: (event) => events.push(event) });
    const key = await storedPasskey('backwards', 5);
    expect((await passkeys.authenticate(key.assertion(0), challenge, key.userId)).ok).to.equal(false);
    expect((await passkeys.authenticate(key.assertion(5), challenge, key.userId)).ok).to.equal(false);
    expect((await passkeys.authenticate(key.assertion(6), challenge, key.userId)).ok).to.equal(true);
    expect(await key.stored()).to.equal(6);
    // The same reason whichever check saw it (the library's, before the store, or the store's).
    expect(events.map((event) => `${event.type} ${'reason' in event ? event.reason : ''}`.trim())).to.deep.equal(['passkey.failed possible_clone', 'passkey.failed possible_clone', 'passkey.used']);
  });

  it('refuses an assertion replayed after it was used as a possible clone; a forged one with an old counter only as refused', async () => {
    const passkeys = await createPasskeys({ connection, issuer: ISSUER, rpName: 'Gatehouse', onEvent: (event) => events.push(event) });
    const key = await storedPasskey('replayed', 2);
    const used = key.assertion(3);
    expect((await passkeys.authenticate(used, challenge, key.userId)).ok).to.equal(true);
    expect((await passkeys.authenticate(used, challenge, key.userId)).ok).to.equal(false);
    // Signed by another key: it proves nothing about the passkey, whatever its counter says.
    const forged = softAuthenticator(ISSUER).assert(key.credentialId, key.userId, challenge, 1);
    expect((await passkeys.authenticate(forged, challenge, key.userId)).ok).to.equal(false);
    expect(events.map((event) => `${event.type} ${'reason' in event ? event.reason : ''}`.trim())).to.deep.equal(['passkey.used', 'passkey.failed possible_clone', 'passkey.failed refused']);
    expect(await key.stored()).to.equal(3);
  });
});
