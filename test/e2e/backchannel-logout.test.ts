import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { browse, signIn, UserAgent } from '../helpers/browserless.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { testClock } from '../helpers/clock.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { authorizationRequest, deployment, LOGOUT_REDIRECT_URI, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';

for (const allowPrivate of [true, false]) describe(`back-channel logout (${allowPrivate ? 'private network allowed' : 'default SSRF protection'})`, () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let receiver: Server;
  const received: string[] = [];
  /** An app's back-channel endpoint that takes the request and never answers (an app that hangs). */
  let hanging: Server;
  const held: Array<{ token: string; res: ServerResponse; closed: boolean }> = [];
  // Frozen: the deadline of a back-channel logout (on Gatehouse's clock) passes only when the test moves it.
  const clock = testClock({ frozen: true });
  const logs = captureLogs('info');
  const undelivered = () => logs.lines().filter((line) => line.msg === 'back-channel logout not delivered');
  /** gatehouse_backchannel_logouts_total by outcome, as /metrics has it now. */
  const counted = async () => {
    const text = await (await fetch(`${gatehouse.url}/metrics`)).text();
    const of = (outcome: string) => Number(new RegExp(`^gatehouse_backchannel_logouts_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { delivered: of('delivered'), failed: of('failed'), timed_out: of('timed_out') };
  };

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hanging = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const entry = { token: new URLSearchParams(body).get('logout_token') ?? '', res, closed: false };
        held.push(entry);
        res.on('close', () => (entry.closed = true));
      });
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    deploy = await deployment('backchannel', { clock, settings: { GATEHOUSE_ALLOW_PRIVATE_NETWORK_FETCH: String(allowPrivate) } });
    gatehouse = await deploy.start(undefined, logs.logger);
    cast = await seed(gatehouse);
  });
  after(async () => {
    // First: a request still held would keep the server's shutdown waiting (on a frozen clock its deadline never passes).
    hanging.closeAllConnections();
    await gatehouse.close();
    await new Promise((resolve) => receiver.close(resolve));
    await new Promise((resolve) => hanging.close(resolve));
    await deploy.drop();
  });

  async function backchannelApp(endpoint: Server = receiver) {
    const { port } = endpoint.address() as AddressInfo;
    return gatehouse.services.clients.create({
      displayName: 'Back-channel app',
      firstParty: true,
      metadata: {
        redirect_uris: [REDIRECT_URI],
        post_logout_redirect_uris: [LOGOUT_REDIRECT_URI],
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'client_secret_basic',
        backchannel_logout_uri: `http://127.0.0.1:${port}/backchannel-logout`,
        backchannel_logout_session_required: true,
      },
    });
  }

  /** Signs the seeded user in to `app` in a fresh browser: the tokens, the ID token's sid, the browser. */
  async function signedIn(app: Awaited<ReturnType<typeof backchannelApp>>) {
    const config = await relyingParty(deploy.issuer, app.client.clientId, app.secret);
    const agent = new UserAgent();
    const { url, checks } = await authorizationRequest(config, REDIRECT_URI);
    const outcome = await signIn(agent, url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, outcome.callback, checks);
    const sid = tokens.claims()!.sid;
    expect(sid).to.be.a('string');
    return { config, agent, tokens, sid: sid as string };
  }

  async function logoutToken(raw: string, clientId: string) {
    return (await jwtVerify(raw, createRemoteJWKSet(new URL(`${deploy.issuer}/jwks`)), { issuer: deploy.issuer, audience: clientId, typ: 'logout+jwt' })).payload;
  }

  it(allowPrivate ? 'posts a signed logout token to the app when the user signs out' : 'sends nothing to a loopback back-channel URI', async () => {
    const app = await backchannelApp();
    const { config, agent, tokens, sid } = await signedIn(app);
    const before = await counted();

    const logout = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGOUT_REDIRECT_URI });
    await browse(agent, logout.toString(), LOGOUT_REDIRECT_URI);
    // No waiting: the library sends the logout token, and hears the answer or the refusal, before
    // it answers the sign-out; browse() has followed that answer to the app's landing page.

    if (!allowPrivate) {
      // The library refuses loopback/private targets unless the operator allows them. The log
      // line proves the attempt was made (and refused) before the sign-out was answered.
      expect(undelivered(), 'the refusal is logged').to.have.length(1);
      expect(undelivered()[0]).to.include({ clientId: app.client.clientId, level: 'warn' });
      expect(received, 'no request reaches a loopback address by default').to.have.length(0);
      expect(await counted(), 'counted as failed').to.deep.equal({ ...before, failed: before.failed + 1 });
      return;
    }
    expect(undelivered(), JSON.stringify(undelivered())).to.deep.equal([]);
    expect(received).to.have.length(1);
    expect(await counted(), 'counted as delivered').to.deep.equal({ ...before, delivered: before.delivered + 1 });
    const { payload, protectedHeader } = await jwtVerify(received[0]!, createRemoteJWKSet(new URL(`${deploy.issuer}/jwks`)), {
      issuer: deploy.issuer,
      audience: app.client.clientId,
      typ: 'logout+jwt',
    });
    expect(protectedHeader.alg).to.equal('RS256');
    expect(payload).to.include({ sub: cast.user.id, sid });
    expect(payload.events).to.have.property('http://schemas.openid.net/event/backchannel-logout');
  });

  if (allowPrivate) {
    it('posts the logout token too when the session ends elsewhere: an operator ends it (admin API; the account page ends sessions the same way) or disables the user', async () => {
      const app = await backchannelApp();
      const admin = await adminClient(gatehouse, 'backchannel-ops');
      const token = await admin.token();
      const sessionsWith = async (clientId: string) => (await gatehouse.services.revocation.listSessions(cast.user.id)).filter((session) => session.clients.includes(clientId));
      received.length = 0;

      // An operator ends the session.
      const first = await signedIn(app);
      const [ended] = await sessionsWith(app.client.clientId);
      const revoked = await callAdmin(gatehouse.url, token, 'DELETE', `/users/${cast.user.id}/sessions/${ended!.id}`);
      expect(revoked.status).to.equal(204);
      // Sent after the answer (src/oidc/session-logout.ts): it arrives without being waited for.
      await within(NOTICE_MS, async () => received.length === 1);
      expect(await logoutToken(received[0]!, app.client.clientId)).to.include({ sub: cast.user.id, sid: first.sid });

      // The user is disabled: every session of theirs ends.
      const second = await signedIn(app);
      expect((await callAdmin(gatehouse.url, token, 'POST', `/users/${cast.user.id}/disable`)).status).to.equal(204);
      await within(NOTICE_MS, async () => received.length === 2);
      expect(await logoutToken(received[1]!, app.client.clientId)).to.include({ sub: cast.user.id, sid: second.sid });
      expect((await callAdmin(gatehouse.url, token, 'POST', `/users/${cast.user.id}/enable`)).status).to.equal(204);
      expect(undelivered(), JSON.stringify(undelivered())).to.deep.equal([]);
    });

    it("does not hold the operator's answer for an app that never answers: the user is disabled at once, the other app's logout still arrives, the hanging one is logged once its deadline passes", async () => {
      const stuck = await backchannelApp(hanging);
      const app = await backchannelApp();
      const admin = await adminClient(gatehouse, 'backchannel-hang');
      const token = await admin.token();
      received.length = 0;
      // Two sessions: the first with the app that hangs (ended first), the second with one that answers.
      await signedIn(stuck);
      const answering = await signedIn(app);
      const before = await counted();

      const disabled = await callAdmin(gatehouse.url, token, 'POST', `/users/${cast.user.id}/disable`);
      expect(disabled.status).to.equal(204);
      // Answered before the hanging app's request ended (Gatehouse's clock is frozen: its deadline cannot pass).
      expect(undelivered(), 'nothing failed before the answer').to.deep.equal([]);
      expect(held.filter((entry) => entry.closed), 'the hanging request is not over').to.deep.equal([]);

      await within(NOTICE_MS, async () => received.length === 1 && held.length === 1);
      expect(await logoutToken(received[0]!, app.client.clientId)).to.include({ sub: cast.user.id, sid: answering.sid });
      expect(await logoutToken(held[0]!.token, stuck.client.clientId)).to.include({ sub: cast.user.id });
      expect(held[0]!.closed, 'still held by the app').to.equal(false);

      // The deadline passes: the request is given up and the failure logged, without the logout token.
      await clock.advance(60_000);
      await within(NOTICE_MS, async () => undelivered().length === 1);
      expect(undelivered()[0]).to.include({ clientId: stuck.client.clientId, level: 'warn', outcome: 'timed_out' });
      expect(await counted(), 'one delivered, one timed out').to.deep.equal({ ...before, delivered: before.delivered + 1, timed_out: before.timed_out + 1 });
      expect(JSON.stringify(logs.lines())).not.to.contain(held[0]!.token);
      await within(NOTICE_MS, async () => held[0]!.closed);
      expect(received, 'nothing sent twice').to.have.length(1);
      expect((await callAdmin(gatehouse.url, token, 'POST', `/users/${cast.user.id}/enable`)).status).to.equal(204);
    });
  }
});
