import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { formsOf, signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, PASSWORD, REDIRECT_URI, relyingParty, seed, type Seeded } from '../helpers/e2e.ts';
import { startInstance } from '../helpers/instance.ts';
import { serveMain } from '../helpers/process.ts';
import { within } from '../helpers/poll.ts';
import { freePort } from '../helpers/redis-server.ts';
import { databaseForSuite, randomSecret, serviceUrls } from '../helpers/stores.ts';

function processEnv(mongodbUri: string, secret: string, issuer: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    GATEHOUSE_ISSUER: issuer,
    HOST: '127.0.0.1',
    MONGODB_URI: mongodbUri,
    REDIS_URL: serviceUrls().redisUrl,
    GATEHOUSE_SECRET: secret,
    GATEHOUSE_HASH_POOL_SIZE: '1',
    GATEHOUSE_REDIS_PREFIX: `gh-${issuer.split(':').at(-1)}:`,
    ...extra,
  };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/**
 * A form POST whose body waits for the test: `accepted` resolves once the server answered
 * "100 Continue" (the request is then being handled), `send()` sends the body and resolves to
 * the whole answer.
 */
function heldBackPost(target: URL, cookie: string, body: string): { accepted: Promise<void>; send(): Promise<{ status: number; body: string }> } {
  const outgoing = request(target, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    outgoing.on('response', (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
  });
  const accepted = new Promise<void>((resolve, reject) => {
    outgoing.once('continue', () => resolve());
    outgoing.once('error', reject);
  });
  outgoing.flushHeaders();
  return {
    accepted,
    send() {
      outgoing.end(body);
      return answer;
    },
  };
}

/** Points every request of a relying party at one instance (same issuer, different port). */
function via(config: oidc.Configuration, port: string): oidc.Configuration {
  config[oidc.customFetch] = (url, options) => {
    const target = new URL(url);
    target.port = port;
    return fetch(target, options as RequestInit);
  };
  return config;
}

/**
 * A load balancer on the issuer's port: round robin over the live backends; the test takes a
 * killed backend out of rotation, as a health-checking balancer would.
 */
function loadBalancer(port: number, backends: () => number[]): Promise<Server> {
  let next = 0;
  const server = createServer((incoming, outgoing) => {
    const live = backends();
    const target = live[next++ % live.length]!;
    const upstream = request({ host: '127.0.0.1', port: target, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => {
      outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

describe('graceful shutdown and failover (real processes)', () => {
  const database = databaseForSuite('failover');
  const secret = randomSecret();
  let issuer: string;
  let issuerPort: number;
  let cast: Seeded;

  before(async () => {
    issuerPort = await freePort();
    issuer = `http://127.0.0.1:${issuerPort}`;
    const seeder = await startInstance({ mongodbUri: database.uri, secret, issuer, redisUrl: serviceUrls().redisUrl, settings: { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1', GATEHOUSE_REDIS_PREFIX: `gh-${issuerPort}:` } });
    cast = await seed(seeder);
    await seeder.close();
  });

  it('finishes an in-flight sign-in (its form held back by the browser), refuses new connections, exits 0 on SIGTERM', async function () {
    // A child process on a loaded machine: allow for slowness, but wait for nothing by the clock.
    this.timeout(120_000);
    // A shutdown timeout no busy machine reaches: the drain must end because the request finished.
    const server = await serveMain(processEnv(database.uri, secret, issuer, { PORT: String(issuerPort), GATEHOUSE_SHUTDOWN_TIMEOUT: '600' }));
    const web = await relyingParty(issuer, cast.web.clientId, cast.web.secret);
    const agent = new UserAgent();
    const { url } = await authorizationRequest(web, REDIRECT_URI);
    const interaction = new URL((await agent.request(url.toString())).headers.get('location')!, issuer).toString();
    const login = formsOf(await (await agent.request(interaction)).text()).find((form) => form.action.endsWith('/login'))!;

    // The sign-in is in flight from the moment the server answers "100 Continue" (Node does so
    // as it hands the request to the app) until the test sends the form: no guessed delays.
    const form = new URLSearchParams({ ...login.fields, login: 'nobody-here', password: 'not the password' }).toString();
    const inFlight = heldBackPost(new URL(login.action, issuer), agent.cookieHeader(), form);
    await inFlight.accepted;
    const exit = server.stop('SIGTERM');
    await within(30_000, () => refused(issuerPort));
    const response = await inFlight.send();
    expect(response.status, 'the in-flight sign-in got its full answer').to.equal(400);
    expect(response.body).to.include('Sign-in failed. Check your username and password');
    expect(await exit, server.output()).to.equal(0);
    expect(server.output()).to.include('"msg":"shutdown complete"');
  });

  it('survives kill -9 of one instance mid-load: the other keeps serving, finishes its flows, no refresh token or session lost', async function () {
    this.timeout(90_000);
    // A reuse window no busy machine outlasts: a rotation A consumed but never answered is retried on B later.
    const settings = { PORT: '0', GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1', GATEHOUSE_REFRESH_REUSE_WINDOW: '600' };
    const a = await serveMain(processEnv(database.uri, secret, issuer, settings));
    const b = await serveMain(processEnv(database.uri, secret, issuer, settings));
    const aPort = new URL(a.url).port;
    const bPort = new URL(b.url).port;
    let aAlive = true;
    const balancer = await loadBalancer(issuerPort, () => (aAlive ? [Number(aPort), Number(bPort)] : [Number(bPort)]));
    try {
      const atA = via(await relyingParty(issuer, cast.web.clientId, cast.web.secret), aPort);
      const atB = via(await relyingParty(issuer, cast.web.clientId, cast.web.secret), bPort);
      const agent = new UserAgent();

      // Sessions and several refresh tokens, made through the balancer (both instances serve them).
      const refreshTokens: string[] = [];
      for (let i = 0; i < 4; i += 1) {
        const request = await authorizationRequest(atA, REDIRECT_URI, { scope: 'openid offline_access', prompt: 'consent' });
        const outcome = await signIn(agent, request.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
        refreshTokens.push((await oidc.authorizationCodeGrant(atA, outcome.callback, request.checks)).refresh_token!);
      }

      // A flow started on A finishes on B: the authorization request goes to A itself.
      const pending = await authorizationRequest(atA, REDIRECT_URI);
      const direct = new URL(pending.url);
      direct.port = aPort;
      const interaction = new URL((await agent.request(direct.toString())).headers.get('location')!, issuer).toString();

      // Load: each refresh token is rotated in a loop, alternating instances; A dies in the middle.
      let stop = false;
      let served = 0;
      const failures: string[] = [];
      const loops = refreshTokens.map(async (_token, index) => {
        let turn = index;
        while (!stop) {
          const config = turn++ % 2 === 0 ? atA : atB;
          try {
            refreshTokens[index] = (await oidc.refreshTokenGrant(config, refreshTokens[index]!)).refresh_token!;
            served += 1;
          } catch (error) {
            // Connection errors from the killed instance are expected; protocol errors are not.
            const message = String((error as Error).message ?? error);
            if (!/fetch failed|ECONNRESET|ECONNREFUSED|socket/i.test(message + String((error as { cause?: unknown }).cause ?? ''))) failures.push(message);
          }
        }
      });
      // Counted, not timed: A dies once both instances served refreshes, the run ends once B served more alone.
      await within(60_000, async () => served >= 8);
      a.child.kill('SIGKILL');
      aAlive = false;
      const servedBeforeKill = served;
      await within(60_000, async () => served >= servedBeforeKill + 8);
      stop = true;
      await Promise.all(loops);
      expect(served, 'refreshes were served during the run').to.be.above(8);
      expect(failures, 'no refresh answered with a protocol error').to.deep.equal([]);

      // Every refresh token still works on B (a rotation A never answered is covered by the reuse window).
      for (const token of refreshTokens) expect((await oidc.refreshTokenGrant(atB, token)).access_token).to.be.a('string');
      // The session made on A signs the user in on B without a password, and A's pending flow finishes on B.
      const finished = await signIn(agent, interaction, REDIRECT_URI, {});
      expect(finished.sawLogin, 'the session survived the crash').to.equal(false);
      expect((await oidc.authorizationCodeGrant(atB, finished.callback, pending.checks)).claims()!.sub).to.equal(cast.user.id);
    } finally {
      await new Promise((resolve) => balancer.close(resolve));
      if (a.child.exitCode === null && a.child.signalCode === null) await a.stop('SIGKILL');
      expect(await b.stop('SIGTERM')).to.equal(0);
    }
  });
});
