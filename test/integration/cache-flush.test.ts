import { expect } from 'chai';
import * as oidc from 'openid-client';
import { userModel } from '../../src/accounts/user-model.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { testClock } from '../helpers/clock.ts';
import { authorizationRequest, FAST_HASHING, PASSWORD, REDIRECT_URI, relyingParty, seed } from '../helpers/e2e.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { runCli } from '../helpers/process.ts';
import { twoInstances, type TwoInstances } from '../helpers/two-instances.ts';

/** Userinfo at one instance: its status and the `name` it shows. */
async function userinfo(instance: RunningGatehouse, accessToken: string): Promise<{ status: number; name?: unknown }> {
  const response = await fetch(new URL('/me', instance.url), { headers: { authorization: `Bearer ${accessToken}` } });
  return response.ok ? { status: response.status, name: ((await response.json()) as { name?: unknown }).name } : { status: response.status };
}

/**
 * `gatehouse caches flush` and POST /admin/api/v1/caches/flush: after a database restore or a
 * manual edit (writes no Gatehouse instance announced), every instance forgets its cached
 * records. Two instances on one deployment's stores and Redis, caches long-lived on a frozen
 * clock: only the flush notice can explain the change.
 */
describe('caches flush: every instance forgets its cached records (two instances, real stores)', function () {
  this.timeout(120_000);
  let instances: TwoInstances;
  let both: RunningGatehouse[];

  before(async () => {
    instances = await twoInstances('cache_flush', { clock: testClock({ frozen: true }), settings: { GATEHOUSE_SESSION_CACHE_TTL: '600', GATEHOUSE_ACCOUNT_CACHE_TTL: '600', GATEHOUSE_KEY_POLL_INTERVAL: '3600' } });
    both = [instances.a, instances.b];
  });
  after(async () => {
    await instances?.stop();
  });

  /** A user signed in to the web app; userinfo read at both instances (so both cache the records). */
  async function signedIn() {
    const cast = await seed(instances.a);
    const web = await relyingParty(instances.deploy.issuer, cast.web.clientId, cast.web.secret);
    const request = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid profile' });
    const outcome = await signIn(new UserAgent(), request.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(web, outcome.callback, request.checks);
    for (const instance of both) expect(await userinfo(instance, tokens.access_token)).to.deep.equal({ status: 200, name: 'Alice Liddell' });
    return { cast, tokens };
  }

  /** A manual edit of the database: no instance hears of it. */
  async function editDirectly(edit: (db: NonNullable<Awaited<ReturnType<typeof connectMongo>>['db']>, mongo: Awaited<ReturnType<typeof connectMongo>>) => Promise<unknown>) {
    const mongo = await connectMongo({ uri: instances.deploy.mongodbUri, timeoutMs: 5000 });
    try {
      await edit(mongo.db!, mongo);
    } finally {
      await mongo.close();
    }
  }

  it('gatehouse caches flush: a profile and a grant changed behind Gatehouse are served fresh by both instances', async () => {
    const { cast, tokens } = await signedIn();
    const renamed = await signedIn();
    await editDirectly(async (db, mongo) => {
      await db.collection('oidc_grant').deleteMany({ accountId: cast.user.id });
      await userModel(mongo).updateOne({ _id: renamed.cast.user.id }, { $set: { name: 'Restored From Backup' } }).exec();
    });
    for (const instance of both) {
      expect(await userinfo(instance, tokens.access_token), 'the deleted grant, still cached').to.deep.equal({ status: 200, name: 'Alice Liddell' });
      expect(await userinfo(instance, renamed.tokens.access_token), 'the old profile, still cached').to.deep.equal({ status: 200, name: 'Alice Liddell' });
    }

    const exit = await runCli(['caches', 'flush', '--json'], instances.cliEnv({ GATEHOUSE_ISSUER: instances.deploy.issuer, ...FAST_HASHING }));
    expect(exit.code, exit.stderr).to.equal(0);
    const report = JSON.parse(exit.stdout) as { flushed: boolean; caches: Array<{ cache: string; listeners: number }> };
    expect(report.flushed).to.equal(true);
    expect(report.caches.map((entry) => entry.cache)).to.deep.equal(['clients', 'sessions', 'users', 'settings', 'upstream', 'keys']);
    for (const entry of report.caches) expect(entry.listeners, `${entry.cache}: both instances listen`).to.equal(2);

    for (const instance of both) {
      await within(NOTICE_MS, async () => (await userinfo(instance, tokens.access_token)).status === 401);
      await within(NOTICE_MS, async () => (await userinfo(instance, renamed.tokens.access_token)).name === 'Restored From Backup');
    }
    const audit = await instances.api('GET', '/audit-events?type=caches.flushed');
    expect(audit.status).to.equal(200);
    expect((audit.body as { events: Array<{ actor: { type: string } }> }).events.map((event) => event.actor.type)).to.deep.equal(['cli']);
  });

  it('POST /admin/api/v1/caches/flush does the same from the admin API', async () => {
    const { cast, tokens } = await signedIn();
    await editDirectly((db) => db.collection('oidc_grant').deleteMany({ accountId: cast.user.id }));
    for (const instance of both) expect((await userinfo(instance, tokens.access_token)).status, 'still cached').to.equal(200);
    const flushed = await instances.api('POST', '/caches/flush');
    expect(flushed.status, JSON.stringify(flushed.body)).to.equal(200);
    expect(flushed.body).to.include({ flushed: true });
    for (const instance of both) await within(NOTICE_MS, async () => (await userinfo(instance, tokens.access_token)).status === 401);
  });
});

describe('caches flush without Redis', function () {
  this.timeout(120_000);
  let instances: TwoInstances;
  before(async () => {
    instances = await twoInstances('cache_flush_local', { redis: false });
  });
  after(async () => {
    await instances?.stop();
  });

  it('says that nothing can reach the other instances (each cache expires on its own TTL) and exits non-zero', async () => {
    const exit = await runCli(['caches', 'flush'], instances.cliEnv({ GATEHOUSE_ISSUER: instances.deploy.issuer, ...FAST_HASHING }));
    expect(exit.code, 'exit 1: nothing was flushed').to.equal(1);
    expect(exit.stderr).to.match(/REDIS_URL/);
    const answer = await instances.api('POST', '/caches/flush');
    expect(answer.status).to.equal(409);
    expect(answer.body).to.include({ error: 'conflict' });
  });
});
