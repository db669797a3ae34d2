import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import * as oidc from 'openid-client';
import { AUDIT_FLUSH_INTERVAL_MS } from '../../src/observability/audit-trail.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { testClock } from '../helpers/clock.ts';
import { API, authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { startInstance } from '../helpers/instance.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { freePort } from '../helpers/redis-server.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const METRICS_TOKEN = `metrics-${randomBytes(12).toString('hex')}`;

async function scrape(url: string, token = METRICS_TOKEN): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, text: await response.text() };
}

/** The value of one sample line, e.g. metric('x_total', {a: 'b'}); 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.indexOf('}'));
    if (Object.entries(labels).every(([key, value]) => body.includes(`${key}="${value}"`))) return Number(line.split(' ').at(-1));
  }
  return 0;
}

async function clientCredentials(issuer: string, clientId: string, secret: string, resource = API): Promise<{ token: string; requestId: string }> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: clientSecretBasic(clientId, secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'read' }).toString(),
  });
  expect(response.status, await response.clone().text()).to.equal(200);
  return { token: ((await response.json()) as { access_token: string }).access_token, requestId: response.headers.get('x-request-id')! };
}

describe('operations: logs, metrics and audit events of real instances', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let db: Connection;
  const logs = captureLogs('debug');
  // Frozen: the audit batch timer fires when the test moves this clock, never on its own.
  const clock = testClock({ frozen: true });

  before(async () => {
    deploy = await deployment('observability', { clock, settings: { GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN } });
    gatehouse = await deploy.start(undefined, logs.logger);
    cast = await seed(gatehouse);
    db = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
  });
  after(async () => {
    await db?.close();
    await gatehouse?.close();
    await deploy.drop();
  });

  it('logs every request with its id and never a password, secret, token, code or cookie value', async () => {
    const wrongPassword = `wrong-${randomBytes(8).toString('hex')}`;
    const web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const agent = new UserAgent();

    const failed = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid profile offline_access', prompt: 'consent' });
    let refused = '';
    await signIn(agent, failed.url.toString(), REDIRECT_URI, { username: cast.user.username, password: wrongPassword }).catch((error: Error) => {
      refused = error.message;
    });
    expect(refused, 'the wrong password was really submitted and refused').to.include('Sign-in failed. Check your username and password');

    const { url, checks } = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid profile offline_access', prompt: 'consent' });
    const outcome = await signIn(agent, url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    const code = outcome.callback.searchParams.get('code')!;
    const tokens = await oidc.authorizationCodeGrant(web, outcome.callback, checks);
    const refreshed = await oidc.refreshTokenGrant(web, tokens.refresh_token!);
    const service = await clientCredentials(deploy.issuer, cast.service.clientId, cast.service.secret);
    const opaque = await clientCredentials(deploy.issuer, cast.service.clientId, cast.service.secret, `${API}/opaque`);
    expect((await oidc.tokenIntrospection(web, refreshed.access_token)).active).to.equal(true);
    await oidc.tokenRevocation(web, refreshed.refresh_token!);

    const secrets: Record<string, string> = {
      'web client secret': cast.web.secret,
      'service client secret': cast.service.secret,
      password: PASSWORD,
      'wrong password': wrongPassword,
      'authorization code': code,
      'access token': tokens.access_token,
      'refresh token': tokens.refresh_token!,
      'ID token': tokens.id_token!,
      'refreshed access token': refreshed.access_token,
      'rotated refresh token': refreshed.refresh_token!,
      'client credentials JWT': service.token,
      'client credentials opaque token': opaque.token,
      'PKCE verifier': checks.pkceCodeVerifier,
    };
    for (const [name, value] of agent.cookies) if (value.length >= 16) secrets[`cookie ${name}`] = value;
    expect(Object.keys(secrets).filter((name) => name.startsWith('cookie')), 'cookies were really used').not.to.be.empty;

    const text = logs.text();
    for (const [name, value] of Object.entries(secrets)) {
      expect(value, name).to.be.a('string').with.length.above(7);
      expect(text.includes(value), `${name} appears in the logs`).to.equal(false);
      // Cookie values and tokens are also percent-encoded in URLs and headers.
      expect(text.includes(encodeURIComponent(value)), `${name} (URL-encoded) appears in the logs`).to.equal(false);
    }

    const lines = logs.lines();
    const requests = lines.filter((line) => line.msg === 'request');
    const routes = new Set(requests.map((line) => line.route));
    for (const route of ['token', 'authorization', 'introspection', 'revocation', '/interaction/:uid/login', '/interaction/:uid']) {
      expect(routes, `a request line for ${route}`).to.include(route);
    }
    expect(requests.every((line) => typeof line.requestId === 'string' && !String(line.path ?? '').includes('?'))).to.equal(true);
    const audit = lines.filter((line) => line.audit === true);
    const failure = audit.find((line) => line.type === 'signin.failure');
    expect(failure, 'sign-in failure audited in the log stream').to.deep.include({ details: failure?.details });
    expect((failure!.details as { reason: string }).reason).to.equal('wrong_password');
    expect(failure!.requestId, 'audit lines carry the request id').to.be.a('string');
    const loginRequest = requests.find((line) => line.requestId === failure!.requestId);
    expect(loginRequest?.route).to.equal('/interaction/:uid/login');
    expect(audit.map((line) => line.type)).to.include.members(['signin.success', 'consent.granted', 'token.issued', 'token.refreshed']);
  });

  it('counts token requests and their latency by route name; labels carry no uid, token or client-supplied string', async () => {
    expect((await scrape(gatehouse.url, 'wrong-token-0123456789')).status, 'the token protects /metrics').to.equal(401);
    const before = await scrape(gatehouse.url);
    expect(before.status).to.equal(200);
    const probe = `/no-such-page-${randomBytes(6).toString('hex')}`;
    await fetch(`${gatehouse.url}${probe}?token=${randomBytes(6).toString('hex')}`);
    const agent = new UserAgent();
    const web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const { url } = await authorizationRequest(web, REDIRECT_URI);
    const interaction = (await agent.request(url.toString())).headers.get('location')!;
    const uid = interaction.split('/').at(-1)!;
    await agent.request(new URL(interaction, deploy.issuer).toString());
    const { token } = await clientCredentials(deploy.issuer, cast.service.clientId, cast.service.secret);

    const after = await scrape(gatehouse.url);
    const issued = (text: string) => sample(text, 'gatehouse_tokens_issued_total', { grant_type: 'client_credentials' });
    const tokenRequests = (text: string) =>
      sample(text, 'gatehouse_http_request_duration_seconds_count', { route: 'token', method: 'POST', status: '200' });
    expect(issued(after.text) - issued(before.text)).to.equal(1);
    expect(tokenRequests(after.text) - tokenRequests(before.text)).to.equal(1);
    expect(sample(after.text, 'gatehouse_http_request_duration_seconds_count', { route: '/interaction/:uid', method: 'GET', status: '200' })).to.be.at.least(1);
    expect(sample(after.text, 'gatehouse_http_request_duration_seconds_count', { route: 'other', status: '404' })).to.be.at.least(1);
    expect(sample(after.text, 'gatehouse_storage_operation_duration_seconds_count', { model: 'Interaction', operation: 'upsert' })).to.be.at.least(1);
    expect(sample(after.text, 'gatehouse_sign_in_failures_total', { reason: 'wrong_password' })).to.be.at.least(1);
    expect(sample(after.text, 'gatehouse_password_hash_run_seconds_count', { op: 'verify' })).to.be.at.least(1);
    expect(after.text).to.match(/^gatehouse_password_hash_queue_depth \d+$/m);
    expect(after.text).to.match(/^nodejs_eventloop_lag_seconds /m);
    expect(after.text).to.match(/^process_resident_memory_bytes /m);
    for (const forbidden of [uid, probe, token, cast.service.clientId, cast.web.clientId, cast.user.id]) {
      expect(after.text.includes(forbidden), `/metrics mentions ${forbidden.slice(0, 24)}`).to.equal(false);
    }
  });

  it('serves /metrics on GATEHOUSE_METRICS_PORT only, when set', async function () {
    // A second Gatehouse started in the test (≈ 2 CPU-s): past mocha's 30 s at load 45–50 on the shared 2 cores.
    this.timeout(120_000);
    const separate = await startInstance({
      mongodbUri: deploy.mongodbUri,
      redisUrl: deploy.redisUrl,
      secret: deploy.secret,
      issuer: deploy.issuer,
      settings: { ...deploy.settings, GATEHOUSE_METRICS_TOKEN: '', PORT: String(await freePort()), GATEHOUSE_METRICS_PORT: '0' },
    });
    try {
      expect((await fetch(`${separate.url}/metrics`)).status).to.equal(404);
      const response = await fetch(`${separate.metricsUrl}/metrics`);
      expect(response.status).to.equal(200);
      expect(await response.text()).to.include('gatehouse_http_request_duration_seconds');
    } finally {
      await separate.close();
    }
  });

  it('audits token issuance without waiting for MongoDB, and the batch writer stores it', async () => {
    const events = db.collection('audit_events');
    const { requestId } = await clientCredentials(deploy.issuer, cast.service.clientId, cast.service.secret);
    // A writer that awaited the write would have stored the event before the response.
    expect(await events.countDocuments({ requestId }), 'the response came before the audit write').to.equal(0);
    expect(gatehouse.audit.pending(), 'the event waits in the buffer').to.be.greaterThan(0);

    // A jump waits for every listener on the clock (the key ring reads the store), so a write the
    // jump started may be under way or already done when it returns: either shows it started.
    const started = async () => gatehouse.audit.writing || (await events.countDocuments({ requestId })) > 0;
    await clock.advance(AUDIT_FLUSH_INTERVAL_MS - 1);
    expect(await started(), 'no write before the flush interval').to.equal(false);
    await clock.advance(1);
    expect(await started(), 'the flush timer started the write').to.equal(true);
    await gatehouse.audit.flush(); // joins a write under way
    const stored = await events.findOne({ requestId, type: 'token.issued' });
    expect(stored, 'the token event is stored by the batch writer').not.to.equal(null);
    // Stored compact (compactAuditEvent): no null username, no `client` repeating the client actor.
    expect(stored).to.deep.include({ actor: { type: 'client', id: cast.service.clientId } });
    expect(stored).not.to.have.any.keys('client', 'target');
    expect(stored!.ip, 'the caller\'s address is a top-level field').to.be.a('string');
    expect((stored!.details as { grantType: string }).grantType).to.equal('client_credentials');
    expect(stored!.at).to.be.instanceOf(Date);

    const signIns = await events.find({ type: { $in: ['signin.success', 'signin.failure'] }, 'actor.id': cast.user.id }).toArray();
    expect(signIns.map((event) => event.type)).to.include.members(['signin.success', 'signin.failure']);
    expect(signIns.find((event) => event.type === 'signin.failure')!.details.reason).to.equal('wrong_password');
    // Who signed in to what: the username and the client are on the sign-in events.
    const success = signIns.find((event) => event.type === 'signin.success')!;
    expect(success.actor).to.deep.equal({ type: 'user', id: cast.user.id, username: cast.user.username });
    expect(success.client).to.be.a('string');
  });
});
