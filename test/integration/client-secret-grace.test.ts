import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';
import { runCli } from '../helpers/process.ts';
import { deployment, relyingParty, type Deployment } from '../helpers/e2e.ts';

/**
 * Client secret rotation with a grace period (Keycloak's client secret rotation policy): the
 * secret before a rotation keeps authenticating until its grace is over, with
 * client_secret_basic and client_secret_post, through openid-client. Time moves on Gatehouse's
 * clock (test/helpers/clock.ts), never by waiting.
 */
describe('client secret rotation with a grace period (openid-client, real stores)', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let clock: TestClock;
  let admin: Awaited<ReturnType<typeof adminClient>>;
  before(async () => {
    clock = testClock();
    deploy = await deployment('client_secret_grace', { clock });
    gatehouse = await deploy.start();
    admin = await adminClient(gatehouse);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  const createService = async (body: Record<string, unknown> = {}) => {
    const created = await callAdmin(gatehouse.url, await admin.token(), 'POST', '/clients', { name: 'Billing worker', grant_types: ['client_credentials'], ...body });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return { clientId: created.body.client_id as string, secret: created.body.client_secret as string };
  };
  const rotate = async (clientId: string, body?: unknown) => callAdmin(gatehouse.url, await admin.token(), 'POST', `/clients/${encodeURIComponent(clientId)}/secret`, body);
  /** 'ok', or the OAuth error openid-client reports. */
  const grant = async (clientId: string, secret: string, auth: (secret: string) => oidc.ClientAuth = oidc.ClientSecretBasic): Promise<string> => {
    try {
      const tokens = await oidc.clientCredentialsGrant(await relyingParty(deploy.issuer, clientId, secret, auth(secret)));
      expect(tokens.access_token).to.be.a('string');
      return 'ok';
    } catch (error) {
      // A 401 with WWW-Authenticate (client_secret_basic) comes as a challenge, its error among the parameters.
      if (error instanceof oidc.WWWAuthenticateChallengeError) return error.cause[0]?.parameters.error ?? String(error);
      return (error as { error?: string }).error ?? String(error);
    }
  };
  const previousSecretEvents = async (clientId: string) => {
    await gatehouse.flushBatchedWrites();
    const connection = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      return await connection.db!.collection('audit_events').find({ type: 'client.previous_secret_used', 'target.id': clientId }).toArray();
    } finally {
      await connection.close();
    }
  };

  it('the old secret authenticates (basic and post) until the grace is over, is shown only as a time, and its use is audited', async () => {
    const { clientId, secret: old } = await createService();
    const rotated = await rotate(clientId, { grace_seconds: 3600 });
    expect(rotated.status, JSON.stringify(rotated.body)).to.equal(200);
    const fresh = rotated.body.client_secret as string;
    expect(fresh).to.be.a('string').and.not.equal(old);
    const until = Date.parse(rotated.body.previous_secret_expires_at as string);
    expect(until - clock.now()).to.be.within(3590_000, 3600_000);

    const shown = await callAdmin(gatehouse.url, await admin.token(), 'GET', `/clients/${clientId}`);
    expect(shown.body.previous_secret_expires_at).to.equal(rotated.body.previous_secret_expires_at);
    expect(JSON.stringify(shown.body)).not.to.include(old).and.not.to.include(fresh);

    expect(await grant(clientId, old)).to.equal('ok');
    expect(await grant(clientId, old, oidc.ClientSecretPost)).to.equal('ok');
    expect(await grant(clientId, fresh)).to.equal('ok');
    expect(await grant(clientId, fresh, oidc.ClientSecretPost)).to.equal('ok');
    expect(await grant(clientId, `${old}x`)).to.equal('invalid_client');

    const events = await previousSecretEvents(clientId);
    expect(events).to.have.length.greaterThan(0);
    expect(events[0]!.details).to.include({ method: 'client_secret_basic' });
    expect(JSON.stringify(events)).not.to.include(old);

    await clock.advance(3601_000);
    expect(await grant(clientId, old)).to.equal('invalid_client');
    expect(await grant(clientId, old, oidc.ClientSecretPost)).to.equal('invalid_client');
    expect(await grant(clientId, fresh)).to.equal('ok');
  });

  it('without a grace the old secret stops at once; a second rotation during a grace replaces the previous secret', async () => {
    const { clientId, secret: first } = await createService();
    const plain = await rotate(clientId);
    expect(plain.status).to.equal(200);
    expect(plain.body.previous_secret_expires_at).to.equal(null);
    expect(await grant(clientId, first)).to.equal('invalid_client');

    const second = plain.body.client_secret as string;
    const withGrace = await rotate(clientId, { grace_seconds: 600 });
    const third = withGrace.body.client_secret as string;
    expect(await grant(clientId, second)).to.equal('ok');
    const again = await rotate(clientId, { grace_seconds: 600 });
    const fourth = again.body.client_secret as string;
    expect(await grant(clientId, second)).to.equal('invalid_client');
    expect(await grant(clientId, third)).to.equal('ok');
    expect(await grant(clientId, fourth)).to.equal('ok');

    const zero = await rotate(clientId, { grace_seconds: 0 });
    expect(zero.body.previous_secret_expires_at).to.equal(null);
    expect(await grant(clientId, fourth)).to.equal('invalid_client');
    expect(await grant(clientId, zero.body.client_secret as string)).to.equal('ok');
  });

  it('each refused attempt with the old secret once the grace is over counts toward GATEHOUSE_CLIENT_AUTH_FAILURE_LIMIT (20): then the new secret is refused too, from that address', async () => {
    const { clientId, secret: old } = await createService();
    const rotated = await rotate(clientId, { grace_seconds: 60 });
    const fresh = rotated.body.client_secret as string;
    await clock.advance(61_000);
    const token = (secret: string) =>
      fetch(`${deploy.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: clientSecretBasic(clientId, secret) },
        body: 'grant_type=client_credentials',
      });
    for (let attempt = 1; attempt <= 20; attempt += 1) {
      const refused = await token(old);
      expect(refused.status, `attempt ${attempt}`).to.equal(401);
    }
    const locked = await token(fresh);
    expect(locked.status).to.equal(429);
    expect(((await locked.json()) as { error: string }).error).to.equal('invalid_client');
    expect(locked.headers.get('retry-after')).to.match(/^\d+$/);
  });

  it('a grace out of range is a 400 naming grace_seconds, and nothing rotates', async () => {
    const { clientId, secret } = await createService();
    for (const body of [{ grace_seconds: 2_592_001 }, { grace_seconds: -1 }, { grace_seconds: 1.5 }, { grace_seconds: '60' }]) {
      const refused = await rotate(clientId, body);
      expect(refused.status, JSON.stringify(body)).to.equal(400);
      expect(JSON.stringify(refused.body)).to.include('grace_seconds');
    }
    expect(await grant(clientId, secret)).to.equal('ok');
  });

  it('the CLI: rotate-secret --grace 1d keeps the old secret working; a bad or too long duration is refused naming --grace', async () => {
    const { clientId, secret: old } = await createService();
    const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, REDIS_URL: deploy.redisUrl!, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
    for (const grace of ['31d', '2w', '-5']) {
      const refused = await runCli(['clients', 'rotate-secret', clientId, '--grace', grace], env);
      expect(refused.code, grace).to.equal(2);
      expect(refused.stderr, grace).to.include('--grace');
    }
    expect(await grant(clientId, old)).to.equal('ok');
    const rotated = await runCli(['clients', 'rotate-secret', clientId, '--grace', '1d', '--json'], env);
    expect(rotated.code, rotated.stderr).to.equal(0);
    const body = JSON.parse(rotated.stdout) as { client_secret: string; previous_secret_expires_at: string };
    expect(body.previous_secret_expires_at).to.be.a('string');
    expect(await grant(clientId, old)).to.equal('ok');
    expect(await grant(clientId, body.client_secret)).to.equal('ok');
  });

  it('gatehouse export during a grace carries the old secret: the deployment it is imported into accepts it until the same time', async () => {
    const { clientId, secret: old } = await createService();
    const rotated = await rotate(clientId, { grace_seconds: 7200 });
    const fresh = rotated.body.client_secret as string;
    const file = join(tmpdir(), `gatehouse-grace-export-${randomBytes(4).toString('hex')}.json`);
    const target = await deployment('client_secret_grace_moved', { clock });
    const moved = await target.start();
    try {
      const envOf = (one: Deployment) => ({ NODE_ENV: 'test', MONGODB_URI: one.mongodbUri, REDIS_URL: one.redisUrl!, GATEHOUSE_SECRET: one.secret, GATEHOUSE_ISSUER: one.issuer, ...one.settings });
      const exported = await runCli(['export', '--output', file, '--unencrypted', '--json'], envOf(deploy));
      expect(exported.code, exported.stderr).to.equal(0);
      const imported = await runCli(['import', '--input', file, '--json'], envOf(target));
      expect(imported.code, imported.stderr).to.equal(0);
      const grantThere = async (secret: string) => {
        try {
          await oidc.clientCredentialsGrant(await relyingParty(target.issuer, clientId, secret));
          return 'ok';
        } catch (error) {
          if (error instanceof oidc.WWWAuthenticateChallengeError) return error.cause[0]?.parameters.error ?? String(error);
          return (error as { error?: string }).error ?? String(error);
        }
      };
      expect(await grantThere(old)).to.equal('ok');
      expect(await grantThere(fresh)).to.equal('ok');
      const shown = await callAdmin(moved.url, await (await adminClient(moved)).token(), 'GET', `/clients/${clientId}`);
      expect(shown.body.previous_secret_expires_at).to.equal(rotated.body.previous_secret_expires_at);
      await clock.advance(7201_000);
      expect(await grantThere(old)).to.equal('invalid_client');
      expect(await grantThere(fresh)).to.equal('ok');
    } finally {
      rmSync(file, { force: true });
      await moved.close();
      await target.drop();
    }
  });
});
