import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { invitationSender, lifetimeWords, openInvitations, type InvitedUser } from '../../src/accounts/invitations.ts';
import { forgetPasswordResets, openPasswordResets, type ResetHolder } from '../../src/accounts/password-resets.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { testClock } from '../helpers/clock.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const HOUR = 3_600_000;

describe('invitation links: lifecycle on a frozen clock (real MongoDB-wire server)', () => {
  const database = databaseForSuite('invitations');
  let connection: Connection;
  const users = new Map<string, ResetHolder>();
  const holder = async (userId: string) => users.get(userId);
  const someone = (userId: string, changes: Partial<ResetHolder> = {}) => users.set(userId, { email: `${userId}@example.com`, passwordChangedAt: null, disabled: false, ...changes });

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
  });
  after(async () => {
    await connection.close();
  });

  it('works until its lifetime ends (the configured one, or the one it was sent with), then never again', async () => {
    const clock = testClock({ frozen: true });
    const invitations = await openInvitations({ mongo: connection, holder, ttlSeconds: async () => 72 * 3600, now: clock.now });
    someone('ivy');
    someone('ian');
    const configured = (await invitations.issue('ivy'))!;
    const short = (await invitations.issue('ian', { ttlSeconds: 3600 }))!;
    await clock.advance(HOUR - 1);
    expect((await invitations.check(short))?.userId).to.equal('ian');
    await clock.advance(1);
    expect(await invitations.check(short), 'its own lifetime of one hour is over').to.equal(undefined);
    expect(await invitations.consume(short)).to.equal(undefined);
    expect((await invitations.check(configured))?.userId).to.equal('ivy');
    await clock.advance(71 * HOUR - 1);
    expect((await invitations.check(configured))?.userId).to.equal('ivy');
    await clock.advance(1);
    expect(await invitations.check(configured), 'the configured 72 hours are over').to.equal(undefined);
  });

  it('is used once, is replaced by the next invitation, and keeps the application it leads back to', async () => {
    const clock = testClock({ frozen: true });
    const invitations = await openInvitations({ mongo: connection, holder, ttlSeconds: async () => 3600, now: clock.now });
    someone('una');
    const first = (await invitations.issue('una'))!;
    const second = (await invitations.issue('una', { returnTo: { clientId: 'crm', redirectUri: 'https://crm.example.com/cb' } }))!;
    expect(await invitations.check(first), 'a new invitation ends the previous one').to.equal(undefined);
    const used = await invitations.consume(second);
    expect(used).to.deep.include({ userId: 'una', returnTo: { clientId: 'crm', redirectUri: 'https://crm.example.com/cb' } });
    expect(await invitations.consume(second), 'single use').to.equal(undefined);
    expect(await invitations.check(second)).to.equal(undefined);
  });

  it('ends when the user gets a password by another path, changes address or is disabled, and never reads a malformed token', async () => {
    const clock = testClock({ frozen: true });
    const invitations = await openInvitations({ mongo: connection, holder, ttlSeconds: async () => 3600, now: clock.now });
    someone('pat');
    someone('ada');
    someone('dan');
    const pat = (await invitations.issue('pat'))!;
    const ada = (await invitations.issue('ada'))!;
    const dan = (await invitations.issue('dan'))!;
    someone('pat', { passwordChangedAt: new Date(clock.now()) });
    someone('ada', { email: 'ada@elsewhere.example' });
    someone('dan', { disabled: true });
    expect(await invitations.check(pat), 'a password was set meanwhile').to.equal(undefined);
    expect(await invitations.check(ada), 'the address changed').to.equal(undefined);
    expect(await invitations.check(dan), 'disabled').to.equal(undefined);
    expect(await invitations.check('not-a-token')).to.equal(undefined);
  });

  it('lives beside reset links: neither ends the other, and forgetting a user\'s links ends both', async () => {
    const clock = testClock({ frozen: true });
    const invitations = await openInvitations({ mongo: connection, holder, ttlSeconds: async () => 3600, now: clock.now });
    const resets = await openPasswordResets({ mongo: connection, holder, ttlSeconds: async () => 1800, now: clock.now });
    someone('rex');
    const invitation = (await invitations.issue('rex'))!;
    const reset = (await resets.issue('rex'))!;
    expect((await invitations.check(invitation))?.userId, 'a reset request leaves the invitation').to.equal('rex');
    expect(await resets.check(invitation), 'an invitation is no reset link').to.equal(undefined);
    expect(await invitations.check(reset), 'a reset link is no invitation').to.equal(undefined);
    await forgetPasswordResets(connection, 'rex');
    expect(await invitations.check(invitation)).to.equal(undefined);
    expect(await resets.check(reset)).to.equal(undefined);
  });

  it('mails the link in the user\'s language with its lifetime, and refuses users it cannot reach', async () => {
    const clock = testClock({ frozen: true });
    const invitations = await openInvitations({ mongo: connection, holder, ttlSeconds: async () => 72 * 3600, now: clock.now });
    const people = new Map<string, InvitedUser>([
      ['kim', { id: 'kim', username: 'kim', name: '김민지', email: 'kim@example.com', disabled: false, attributes: { locale: 'ko' } }],
      ['nomail', { id: 'nomail', username: 'nomail', name: null, email: null, disabled: false, attributes: {} }],
      ['off', { id: 'off', username: 'off', name: null, email: 'off@example.com', disabled: true, attributes: {} }],
    ]);
    someone('kim', { email: 'kim@example.com' });
    const sent: Array<{ to: string; locale: string; model: Readonly<Record<string, unknown>> }> = [];
    const sender = invitationSender<string>({
      accounts: { findById: async (id) => people.get(id) },
      invitations,
      linkBase: 'https://id.example.com/password/invitation',
      ttlSeconds: async () => 72 * 3600,
      localeOf: (user) => user.attributes.locale ?? 'en',
      mail: { send: async (_kind, to, locale, model) => void sent.push({ to, locale, model }) },
    });
    expect(await sender.send('kim')).to.deep.equal({ kind: 'sent', expiresInSeconds: 72 * 3600 });
    expect(sent).to.have.length(1);
    expect(sent[0]).to.deep.include({ to: 'kim@example.com', locale: 'ko' });
    expect(sent[0]!.model).to.deep.include({ name: '김민지', username: 'kim', hours: '72' });
    const token = /\/invitation\/([A-Za-z0-9_-]{43})$/.exec(String(sent[0]!.model.link))?.[1];
    expect((await invitations.check(token!))?.userId).to.equal('kim');
    expect(await sender.send('nomail')).to.deep.equal({ kind: 'no_email' });
    expect(await sender.send('off')).to.deep.equal({ kind: 'disabled' });
    expect(await sender.send('nobody')).to.deep.equal({ kind: 'unknown_user' });
    expect(sent, 'nothing mailed to them').to.have.length(1);
    expect(lifetimeWords(5400)).to.deep.equal({ hours: null, minutes: '90' });
  });
});
