import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { API, deployment, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * Probe (probe25): round 24's client secret rotation with a grace period, from outside, through
 * openid-client. The secret before a rotation must open exactly what README promises — token,
 * introspection, revocation, PAR and device authorization, with client_secret_basic and
 * client_secret_post, until the grace ends (to the millisecond, on Gatehouse's clock) — and
 * nothing else: not for another client id, not once the client is deleted (nor for a client
 * created again under its id), not once the client authenticates otherwise (private_key_jwt),
 * not as a client_secret_jwt key; and neither secret is ever written to a log line or an audit
 * event, whether the old secret is taken or refused.
 */
describe('probe: the previous client secret during and after its grace (openid-client, real stores)', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let clock: TestClock;
  let admin: Awaited<ReturnType<typeof adminClient>>;
  const logs = captureLogs('trace');

  before(async () => {
    clock = testClock({ frozen: true });
    deploy = await deployment('probe_prev_secret', { clock });
    gatehouse = await deploy.start(undefined, logs.logger);
    admin = await adminClient(gatehouse);
    await gatehouse.services.apis.create({ identifier: API, name: 'Example API', scopes: ['read'] });
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  const call = async (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, await admin.token(), method, path, body);
  /** A confidential client of every grant the client-authenticating endpoints serve. */
  const createApp = async (extra: Record<string, unknown> = {}) => {
    const created = await call('POST', '/clients', {
      name: 'Probe app',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE],
      apis: [API],
      ...extra,
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return { clientId: created.body.client_id as string, secret: created.body.client_secret as string };
  };
  const rotate = async (clientId: string, body?: unknown) => {
    const rotated = await call('POST', `/clients/${encodeURIComponent(clientId)}/secret`, body);
    expect(rotated.status, JSON.stringify(rotated.body)).to.equal(200);
    return rotated.body as { client_secret: string; previous_secret_expires_at: string | null };
  };
  /** 'ok', or the OAuth error openid-client reports. */
  const outcome = async (work: () => Promise<unknown>): Promise<string> => {
    try {
      await work();
      return 'ok';
    } catch (error) {
      if (error instanceof oidc.WWWAuthenticateChallengeError) return error.cause[0]?.parameters.error ?? String(error);
      return (error as { error?: string }).error ?? String(error);
    }
  };
  type Auth = (secret: string) => oidc.ClientAuth;
  /** Each client-authenticating endpoint, as an application reaches it with openid-client. */
  const endpoints = async (clientId: string, secret: string, auth: Auth) => {
    const config = await relyingParty(deploy.issuer, clientId, secret, auth(secret));
    return {
      token: await outcome(() => oidc.clientCredentialsGrant(config, { scope: 'read' })),
      introspection: await outcome(() => oidc.tokenIntrospection(config, 'not-a-token')),
      revocation: await outcome(() => oidc.tokenRevocation(config, 'not-a-token')),
      par: await outcome(async () => oidc.buildAuthorizationUrlWithPAR(config, { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' })),
      device: await outcome(() => oidc.initiateDeviceAuthorization(config, { scope: 'openid' })),
    };
  };
  const everywhere = (result: string) => ({ token: result, introspection: result, revocation: result, par: result, device: result });
  const auditEvents = async () => {
    await gatehouse.flushBatchedWrites();
    const connection = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      return await connection.db!.collection('audit_events').find({}).toArray();
    } finally {
      await connection.close();
    }
  };

  it('opens every client-authenticating endpoint, basic and post, until the last millisecond of the grace and none after', async () => {
    const { clientId, secret: old } = await createApp();
    const rotated = await rotate(clientId, { grace_seconds: 600 });
    const until = Date.parse(rotated.previous_secret_expires_at!);
    expect(until).to.equal(clock.now() + 600_000);

    for (const auth of [oidc.ClientSecretBasic, oidc.ClientSecretPost]) expect(await endpoints(clientId, old, auth)).to.deep.equal(everywhere('ok'));
    await clock.advance(until - clock.now() - 1);
    expect(await endpoints(clientId, old, oidc.ClientSecretBasic)).to.deep.equal(everywhere('ok'));
    await clock.advance(1);
    for (const auth of [oidc.ClientSecretBasic, oidc.ClientSecretPost]) expect(await endpoints(clientId, old, auth)).to.deep.equal(everywhere('invalid_client'));
    for (const auth of [oidc.ClientSecretBasic, oidc.ClientSecretPost]) expect(await endpoints(clientId, rotated.client_secret, auth)).to.deep.equal(everywhere('ok'));
  });

  it("another client's previous secret opens nothing under this client's id", async () => {
    const first = await createApp();
    const second = await createApp();
    await rotate(first.clientId, { grace_seconds: 3600 });
    await rotate(second.clientId, { grace_seconds: 3600 });
    expect(await endpoints(second.clientId, first.secret, oidc.ClientSecretBasic)).to.deep.equal(everywhere('invalid_client'));
    expect(await endpoints(second.clientId, first.secret, oidc.ClientSecretPost)).to.deep.equal(everywhere('invalid_client'));
    // A Basic header naming one client and a body naming the other: refused, the body's id is no way round the header's.
    const mixed = await fetch(`${gatehouse.url}/token`, {
      method: 'POST',
      headers: { authorization: clientSecretBasic(first.clientId, first.secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: second.clientId }).toString(),
    });
    expect(mixed.status).to.be.oneOf([400, 401]);
    expect(((await mixed.json()) as { access_token?: string }).access_token).to.equal(undefined);
  });

  it('dies with its client: a deleted client, and one created again under its id, take the previous secret nowhere', async () => {
    const { clientId, secret: old } = await createApp();
    const rotated = await rotate(clientId, { grace_seconds: 3600 });
    expect((await call('DELETE', `/clients/${encodeURIComponent(clientId)}`)).status).to.equal(204);
    // Few enough refusals (each counts) that the id stays under GATEHOUSE_CLIENT_AUTH_FAILURE_LIMIT (20) from this address.
    expect(await endpoints(clientId, old, oidc.ClientSecretBasic)).to.deep.equal(everywhere('invalid_client'));
    expect(await outcome(async () => oidc.clientCredentialsGrant(await relyingParty(deploy.issuer, clientId, rotated.client_secret), { scope: 'read' }))).to.equal('invalid_client');

    const again = await createApp({ client_id: clientId });
    expect(again.clientId).to.equal(clientId);
    const shown = await call('GET', `/clients/${encodeURIComponent(clientId)}`);
    expect(shown.body.previous_secret_expires_at).to.equal(null);
    expect(await endpoints(clientId, old, oidc.ClientSecretPost)).to.deep.equal(everywhere('invalid_client'));
    expect(await endpoints(clientId, again.secret, oidc.ClientSecretPost)).to.deep.equal(everywhere('ok'));
  });

  it('is no way in once the client authenticates with a key (private_key_jwt), and is no client_secret_jwt key', async () => {
    const { clientId, secret: old } = await createApp();
    const rotated = await rotate(clientId, { grace_seconds: 3600 });
    // client_secret_jwt with either secret: the HMAC method is not served (README), the old key least of all.
    for (const secret of [old, rotated.client_secret]) expect(await outcome(async () => oidc.clientCredentialsGrant(await relyingParty(deploy.issuer, clientId, secret, oidc.ClientSecretJwt(secret)), { scope: 'read' }))).to.equal('invalid_client');

    const { publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const jwk = { ...(await crypto.subtle.exportKey('jwk', publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const patched = await call('PATCH', `/clients/${encodeURIComponent(clientId)}`, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] } });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    for (const auth of [oidc.ClientSecretBasic, oidc.ClientSecretPost]) expect(await endpoints(clientId, old, auth)).to.deep.equal(everywhere('invalid_client'));
  });

  it('never writes either secret into a log line or an audit event, taken or refused', async () => {
    const { clientId, secret: old } = await createApp();
    const rotated = await rotate(clientId, { grace_seconds: 60 });
    for (const auth of [oidc.ClientSecretBasic, oidc.ClientSecretPost]) expect(await endpoints(clientId, old, auth)).to.deep.equal(everywhere('ok'));
    await clock.advance(60_000);
    for (const auth of [oidc.ClientSecretBasic, oidc.ClientSecretPost]) expect(await endpoints(clientId, old, auth)).to.deep.equal(everywhere('invalid_client'));

    const events = await auditEvents();
    const used = events.filter((event) => event.type === 'client.previous_secret_used' && (event.target as { id?: string }).id === clientId);
    expect(used).to.have.length(1);
    const everything = `${logs.text()}\n${JSON.stringify(events)}`;
    for (const secret of [old, rotated.client_secret]) {
      expect(everything).not.to.include(secret);
      expect(everything).not.to.include(encodeURIComponent(secret));
      expect(everything).not.to.include(Buffer.from(`${clientId}:${secret}`).toString('base64'));
    }
    expect(logs.lines().some((line) => line.msg === 'request')).to.equal(true);
  });
});
