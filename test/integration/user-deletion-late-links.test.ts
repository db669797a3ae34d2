import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createEmailVerification } from '../../src/accounts/email-verification.ts';
import { openEmailVerifications, type EmailVerifications } from '../../src/accounts/email-verifications.ts';
import { invitationSender, openInvitations, type Invitations } from '../../src/accounts/invitations.ts';
import { openPasswordResets, type PasswordResets } from '../../src/accounts/password-resets.ts';
import type { User } from '../../src/accounts/user.ts';
import { createPasskeys, type Passkeys } from '../../src/mfa/passkeys.ts';
import { totpCode } from '../../src/mfa/totp.ts';
import { userDeletion } from '../../src/operations/user-deletion.ts';
import { userOperations } from '../../src/operations/users.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { instanceForSuite, PASSWORD } from '../helpers/e2e.ts';
import { softAuthenticator } from '../helpers/soft-authenticator.ts';

const ctx = { actor: { type: 'system' as const, id: 'test' } };
/** The passkeys' relying party: a host name (an IP address is no RP ID), the stores are the suite's. */
const RP = 'http://localhost:3000';
/** The second factors' clock (the instance's secondFactorClock): the TOTP code below is for it. */
const AT = new Date('2026-06-01T12:00:10Z');

/**
 * Like user-deletion-late-records.test.ts for the other per-user rows a request may write after
 * it found the user and before the deletion removed them: a password-reset link, an invitation,
 * an email-verification link (for the address and for a new one), an authenticator app being
 * enrolled or confirmed with its recovery codes, new recovery codes, a passkey. None may outlive
 * the user — they name the user and hold an address or a credential. Real users in a real
 * MongoDB-wire server; the test decides when each write lands, no sleeps.
 */
describe('deleting a user while a request still writes a link or a second factor for them (real stores)', function () {
  this.timeout(60_000);
  const suite = instanceForSuite('deletion_late_links', { secondFactorClock: () => AT });
  let connection: Connection;
  let resets: PasswordResets;
  let invitations: Invitations;
  let verifications: EmailVerifications;
  let passkeys: Passkeys;
  let serial = 0;
  /**
   * The user as a request read them before the deletion began: a link's issue reads its user
   * first (to bind the link to their address); each store's first read after `readEarlier` gets
   * that earlier read, later reads the user as stored.
   */
  const earlierReads = new Map<string, User>();
  const readEarlier = async (userId: string) => {
    const user = (await suite.gatehouse.services.accounts.findById(userId))!;
    for (const store of ['resets', 'invitations']) earlierReads.set(`${store}:${userId}`, user);
  };
  const holderOf = (store: string) => async (userId: string) => {
    const earlier = earlierReads.get(`${store}:${userId}`);
    earlierReads.delete(`${store}:${userId}`);
    return earlier ?? suite.gatehouse.services.accounts.findById(userId);
  };

  before(async () => {
    connection = await connectMongo({ uri: suite.deploy.mongodbUri, timeoutMs: 5000 });
    resets = await openPasswordResets({ mongo: connection, holder: holderOf('resets'), ttlSeconds: async () => 3600 });
    invitations = await openInvitations({ mongo: connection, holder: holderOf('invitations'), ttlSeconds: async () => 3600 });
    verifications = await openEmailVerifications({ mongo: connection, ttlSeconds: async () => 3600 });
    passkeys = await createPasskeys({ connection, issuer: RP, rpName: 'Gatehouse' });
  });
  after(async () => {
    await connection?.close();
  });

  const count = (collection: string, filter: Record<string, unknown>) => connection.db!.collection(collection).countDocuments(filter);
  const rowsOf = async (userId: string) => ({
    password_resets: await count('password_resets', { userId }),
    invitations: await count('invitations', { userId }),
    email_verifications: await count('email_verifications', { userId }),
    mfa_factors: await count('mfa_factors', { _id: userId }),
    mfa_recovery_codes: await count('mfa_recovery_codes', { userId }),
    mfa_used_steps: await count('mfa_used_steps', { userId }),
    mfa_passkeys: await count('mfa_passkeys', { userId }),
  });
  const none = { password_resets: 0, invitations: 0, email_verifications: 0, mfa_factors: 0, mfa_recovery_codes: 0, mfa_used_steps: 0, mfa_passkeys: 0 };
  const all = { password_resets: 1, invitations: 1, email_verifications: 2, mfa_factors: 1, mfa_recovery_codes: 10, mfa_used_steps: 1, mfa_passkeys: 1 };
  const newUser = async () => {
    const n = ++serial;
    return (await suite.gatehouse.services.accounts.createUser({ username: `late-link-${n}`, password: PASSWORD, email: `late-link-${n}@example.com` })).id;
  };

  /** The links a request that read the user (and their address) before the deletion began issues; their tokens. */
  const lateLinks = async (userId: string, email: string) => [
    await resets.issue(userId),
    await invitations.issue(userId),
    await verifications.issue({ kind: 'address', userId, email, returnTo: null }),
    await verifications.issue({ kind: 'change', userId, email: `new-${email}`, returnTo: null }),
  ];
  /** An authenticator app enrolled and confirmed (its recovery codes with it), and a passkey registered, by such requests. */
  const lateFactors = async (userId: string) => {
    const { factors } = suite.gatehouse.services;
    const { secret, parameters } = await factors.beginTotp(userId);
    await factors.confirmTotp(userId, totpCode(secret, AT, parameters), '203.0.113.9');
    await factors.regenerateRecoveryCodes(userId);
    const credential = Buffer.from(`late-passkey-${userId}`).toString('base64url');
    const challenge = Buffer.from(`a challenge for ${userId}`).toString('base64url');
    return passkeys.register(userId, softAuthenticator(RP).register(credential, challenge), challenge, 'Late key');
  };

  it('the links and factors of a living user are kept', async () => {
    const id = await newUser();
    await lateLinks(id, `late-link-${serial}@example.com`);
    expect(await lateFactors(id), 'the passkey registers').to.equal(true);
    expect(await rowsOf(id)).to.deep.equal(all);
  });

  it('written after the deletion: no link, app, recovery code or passkey names the deleted user', async () => {
    const id = await newUser();
    const email = `late-link-${serial}@example.com`;
    await readEarlier(id);
    await userDeletion(suite.gatehouse.services)(ctx, id);
    // Nothing to mail: each link is gone again (before, a token was handed back and mailed, its link dead).
    expect(await lateLinks(id, email), 'no token for a deleted user').to.deep.equal([undefined, undefined, undefined, undefined]);
    expect(await lateFactors(id), 'a passkey registered for a deleted user is refused').to.equal(false);
    expect(await rowsOf(id)).to.deep.equal(none);
  });

  it('an invitation or verification mail for a user deleted since they were read is not sent; the answer is the one a user who never existed gets', async () => {
    const id = await newUser();
    const email = `late-link-${serial}@example.com`;
    const earlier = (await suite.gatehouse.services.accounts.findById(id))!;
    const sent: string[] = [];
    const mail = { send: async (kind: string, to: string) => void sent.push(`${kind} ${to}`) };
    // The senders read the user before the deletion; the stores see it done.
    const findById = async (userId: string) => (userId === id ? earlier : suite.gatehouse.services.accounts.findById(userId));
    const inviting = invitationSender({ accounts: { findById }, invitations, linkBase: 'https://id.example/password/invitation', ttlSeconds: async () => 3600, localeOf: () => 'en' as const, mail });
    const verifying = createEmailVerification({ verifications, accounts: { findById, verifyEmail: suite.gatehouse.services.accounts.verifyEmail }, mail, linkBase: 'https://id.example/email/verify', ttlSeconds: async () => 3600 });
    await readEarlier(id);
    await userDeletion(suite.gatehouse.services)(ctx, id);
    // The link's store read the user before the deletion too (its check after the write finds them gone), then not (its first read does).
    expect(await inviting.send(id)).to.deep.equal({ kind: 'unknown_user' });
    expect(await inviting.send(id)).to.deep.equal(await inviting.send('never-existed'));
    expect(await verifying.send(id, 'en')).to.equal(await verifying.send('never-existed', 'en'));
    expect(await verifying.requestChange(id, `new-${email}`, 'en')).to.equal(await verifying.requestChange('never-existed', `new-${email}`, 'en'));
    expect(sent, 'no mail').to.deep.equal([]);
    expect(await rowsOf(id)).to.deep.equal(none);
  });

  it("an operator's resend of the verification mail for a user deleted since the operation read them answers 404 user_not_found (a disabled user: 409 user_disabled)", async () => {
    const { services } = suite.gatehouse;
    const mail = { send: async () => undefined };
    const verifying = createEmailVerification({ verifications, accounts: services.accounts, mail, linkBase: 'https://id.example/email/verify', ttlSeconds: async () => 3600 });
    let deleteFirst = false;
    // The operation has read the user (its 404 check); the deletion lands before the sender reads them.
    const sender = {
      send: async (userId: string, by: 'self' | 'operator') => {
        if (deleteFirst) await userDeletion(services)(ctx, userId);
        return verifying.send(userId, 'en', null, by);
      },
    };
    const operations = userOperations(services, sender);
    const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as { status?: number; problem?: { code?: string } });

    const deleted = await newUser();
    deleteFirst = true;
    const gone = await failure(operations.sendVerification(deleted));
    expect({ status: gone?.status, code: gone?.problem?.code }, 'the answer a user who never existed gets').to.deep.equal({ status: 404, code: 'user_not_found' });
    const never = await failure(operations.sendVerification('never-existed'));
    expect({ status: never?.status, code: never?.problem?.code }).to.deep.equal({ status: 404, code: 'user_not_found' });

    deleteFirst = false;
    const disabled = await newUser();
    await services.accounts.disable(disabled);
    const refused = await failure(operations.sendVerification(disabled));
    expect({ status: refused?.status, code: refused?.problem?.code }).to.deep.equal({ status: 409, code: 'user_disabled' });
  });

  it('written while the deletion runs (after the records were erased, before the user went): nothing is left', async () => {
    const id = await newUser();
    const email = `late-link-${serial}@example.com`;
    const { services } = suite.gatehouse;
    const deleting = userDeletion({
      ...services,
      accounts: {
        ...services.accounts,
        remove: async (userId: string) => {
          await lateLinks(id, email);
          expect(await lateFactors(id), 'the user still exists (disabled): the passkey registers').to.equal(true);
          expect(await rowsOf(id), 'the late writes landed after the erasure').to.deep.equal(all);
          return services.accounts.remove(userId);
        },
      },
    });
    await deleting(ctx, id);
    expect(await rowsOf(id)).to.deep.equal(none);
  });
});
