import { expect } from 'chai';
import type { Connection } from 'mongoose';
import type { KeyControl } from '../../src/keys/key-control.ts';
import { totpCode } from '../../src/mfa/totp.ts';
import { createOperations } from '../../src/operations/index.ts';
import { collectionName } from '../../src/storage/oidc/models.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { testClock } from '../helpers/clock.ts';
import { instanceForSuite, PASSWORD } from '../helpers/e2e.ts';

const DAY_MS = 86_400_000;

/**
 * One clock for the whole instance (src/clock.ts): what it dates, and what it judges against
 * dates it wrote, follows the clock the instance was given, never the wall clock beside it. The
 * clock here stands a year ahead of the wall clock and still: a part reading the wall clock shows
 * at once, whenever the suite runs (the audit trail's per-minute counts once split across a real
 * minute boundary that way).
 */
describe('an instance on a clock a year ahead: every part reads that clock', function () {
  this.timeout(60_000);
  const clock = testClock({ frozen: true });
  before(() => clock.advance(366 * DAY_MS));
  const suite = instanceForSuite('one_clock', { clock, settings: { GATEHOUSE_AUDIT_RETENTION_DAYS: '30' } });
  let connection: Connection;
  const operations = () => {
    const { gatehouse } = suite;
    const keys: KeyControl = { keySet: async () => gatehouse.keySet, rotate: () => gatehouse.rotateKeys().then((result) => ({ ...result, announced: false })) };
    return createOperations({ services: gatehouse.services, keys, issuer: suite.deploy.issuer });
  };

  before(async () => {
    connection = await connectMongo({ uri: suite.deploy.mongodbUri, timeoutMs: 5000 });
  });
  after(async () => {
    await connection?.close();
  });

  it('dates a new user, an operator\'s edit of it and a new role on the clock', async () => {
    const { services } = suite.gatehouse;
    const user = await services.accounts.createUser({ username: 'clocked', password: PASSWORD });
    expect(user.createdAt.getTime(), 'user created').to.equal(clock.now());
    expect(user.passwordChangedAt?.getTime(), 'password set').to.equal(clock.now());
    const edited = await services.users.update(user.id, { givenName: 'Clocky' });
    expect(edited.updatedAt.getTime(), 'user edited').to.equal(clock.now());
    const role = await services.roles.create('clockwork');
    expect(role.createdAt.getTime(), 'role created').to.equal(clock.now());
  });

  it('notes where a session was used at the clock\'s time', async () => {
    const { services } = suite.gatehouse;
    const user = await services.accounts.createUser({ username: 'traveller', password: PASSWORD });
    services.sessionDevices.seen('session-uid-1', user.id, '198.51.100.4', 'curl/8.5.0', true);
    await suite.gatehouse.flushBatchedWrites();
    const devices = await services.sessionDevices.ofUser(user.id, ['session-uid-1']);
    expect(devices.get('session-uid-1')?.lastSeenAt.getTime()).to.equal(clock.now());
  });

  it('takes a TOTP code of the clock\'s time (no second-factor clock of its own given)', async () => {
    const { services } = suite.gatehouse;
    const user = await services.accounts.createUser({ username: 'timekeeper', password: PASSWORD });
    const { secret } = await services.factors.beginTotp(user.id);
    expect((await services.factors.confirmTotp(user.id, totpCode(secret, new Date(clock.now())), '198.51.100.5')).ok).to.equal(true);
  });

  it('reads an API again once its cached copy expired on the clock', async () => {
    const { apis } = suite.gatehouse.services;
    await apis.create({ identifier: 'https://api.one-clock.example', name: 'Before', scopes: ['read'] });
    expect((await apis.find('https://api.one-clock.example'))?.name).to.equal('Before');
    // Written behind the registry's back: only the cache entry's expiry shows it.
    await connection.db!.collection<{ _id: string }>('apis').updateOne({ _id: 'https://api.one-clock.example' }, { $set: { name: 'After' } });
    await clock.advance(60_000);
    expect((await apis.find('https://api.one-clock.example'))?.name).to.equal('After');
  });

  it('advertises the password grant once its cached "no client uses it" expired on the clock', async () => {
    const { gatehouse } = suite;
    const grantTypes = async () => ((await (await fetch(`${gatehouse.url}/.well-known/openid-configuration`)).json()) as { grant_types_supported: string[] }).grant_types_supported;
    expect(await grantTypes()).to.not.include('password');
    await gatehouse.services.clients.create({
      displayName: 'Password gateway',
      firstParty: true,
      metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true },
    });
    // The "no" is kept two seconds (src/oidc/grants/discovery.ts): two seconds of the clock.
    await clock.advance(2_001);
    expect(await grantTypes()).to.include('password');
  });

  it('lists the signing keys it signs with as active', async () => {
    const listed = await operations().keys.list();
    expect(listed.keys).to.not.deep.equal([]);
    expect(listed.keys.filter((key) => key.status !== 'active')).to.deep.equal([]);
  });

  it('counts today\'s sign-ins on the clock\'s day', async () => {
    const { gatehouse } = suite;
    await gatehouse.services.audit.write({ actor: { type: 'user', id: 'u-1' }, type: 'signin.success', target: { type: 'user', id: 'u-1' } });
    await gatehouse.audit.flush();
    const { days } = await operations().audit.signInsByDay({ days: 2 });
    expect(days.at(-1)).to.deep.include({ date: new Date(clock.now()).toISOString().slice(0, 10), success: 1 });
  });

  it('no longer counts or lists a sign-in session once it expired on the clock', async () => {
    const { services } = suite.gatehouse;
    const sessions = connection.db!.collection<{ _id: string }>(collectionName('Session'));
    const before = await services.revocation.countSessions();
    await sessions.insertOne({ _id: 'clocked-session', accountId: 'u-clock', payload: JSON.stringify({ accountId: 'u-clock', kind: 'Session' }), expiresAt: new Date(clock.now() + 60_000) } as never);
    expect(await services.revocation.countSessions()).to.equal(before + 1);
    await clock.advance(61_000);
    expect(await services.revocation.countSessions()).to.equal(before);
    expect(await services.revocation.listSessions('u-clock')).to.deep.equal([]);
  });

  it('keeps audit events for GATEHOUSE_AUDIT_RETENTION_DAYS of the clock (FerretDB v1: the sweeper)', async () => {
    const { gatehouse } = suite;
    await gatehouse.services.audit.write({ actor: { type: 'system', id: 'test' }, type: 'signin.failure', target: { type: 'user', id: 'u-old' } });
    await gatehouse.audit.flush();
    const events = connection.db!.collection('audit_events');
    expect(await events.countDocuments({ 'target.id': 'u-old' })).to.equal(1);
    await clock.advance(29 * DAY_MS);
    expect(await events.countDocuments({ 'target.id': 'u-old' }), 'within the retention').to.equal(1);
    await clock.advance(2 * DAY_MS);
    expect(await events.countDocuments({ 'target.id': 'u-old' }), 'after the retention').to.equal(0);
  });
});
