import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { browse, UserAgent } from '../helpers/browserless.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { deployment, PASSWORD, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { faultyLink } from '../helpers/faulty-link.ts';
import { startInstance } from '../helpers/instance.ts';
import { freePort } from '../helpers/redis-server.ts';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** A public client of the device flow (a TV), registered on `gatehouse`; its client id. */
async function deviceClient(gatehouse: RunningGatehouse, displayName: string): Promise<string> {
  const created = await gatehouse.services.clients.create({
    displayName,
    metadata: { redirect_uris: [], response_types: [], grant_types: [DEVICE_GRANT], token_endpoint_auth_method: 'none', scope: 'openid' },
  });
  return created.client.clientId;
}

/**
 * RFC 8628 §3.5: a device that polls the token endpoint sooner than its interval (5 s, named in
 * the device authorization response) gets `slow_down`, and its interval grows by 5 s for that
 * and every later poll. Polls are judged across instances, on the stores' clock, by when they
 * arrived: in the first suites a frozen test clock stands in for it and for the time a request
 * waits (StartOptions.storeClock; the test moves it, nothing sleeps), the last ones read the
 * stores' own.
 */
for (const redis of [true, false]) {
  describe(`device flow: slow_down for a device polling too fast, across instances (${redis ? 'Redis' : 'MongoDB-wire only'})`, () => {
    let deploy: Deployment;
    let clock: TestClock;
    let a: RunningGatehouse;
    let b: RunningGatehouse;
    let cast: Seeded;
    let tv: string;
    let otherTv: string;

    before(async () => {
      clock = testClock({ frozen: true });
      deploy = await deployment(`device_slow_down_${redis ? 'redis' : 'mongo'}`, { redis, clock, storeClock: clock.now });
      a = await deploy.start();
      b = await deploy.start(await freePort());
      cast = await seed(a);
      tv = await deviceClient(a, 'Living-room TV');
      otherTv = await deviceClient(a, 'Kitchen TV');
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await deploy?.drop();
    });

    async function start(): Promise<{ device_code: string; user_code: string; verification_uri: string }> {
      const response = await fetch(`${a.url}/device/auth`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: tv, scope: 'openid' }).toString(),
      });
      expect(response.status).to.equal(200);
      const body = (await response.json()) as { device_code: string; user_code: string; verification_uri: string; interval?: number };
      expect(body.interval, 'RFC 8628 §3.2: the interval the token endpoint enforces').to.equal(5);
      return body;
    }

    async function poll(at: RunningGatehouse, deviceCode: string, clientId = tv): Promise<{ status: number; body: Record<string, string> }> {
      const response = await fetch(`${at.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: clientId, grant_type: DEVICE_GRANT, device_code: deviceCode }).toString(),
      });
      return { status: response.status, body: (await response.json()) as Record<string, string> };
    }

    it('a poll sooner than 5 s after the last one is slow_down, at another instance too; each slow_down adds 5 s to the interval for every later poll', async () => {
      const { device_code: code } = await start();
      expect((await poll(a, code)).body.error).to.equal('authorization_pending');
      const soon = await poll(b, code);
      expect(soon.status).to.equal(400);
      expect(soon.body).to.deep.equal({ error: 'slow_down', error_description: 'you are polling too quickly and should back off at a reasonable rate' });

      await clock.advance(8_999);
      expect((await poll(a, code)).body.error, '8.999 s after a slow_down: the interval is 10 s now (1 s early is let through)').to.equal('slow_down');
      await clock.advance(15_000);
      expect((await poll(b, code)).body.error, 'waited the 15 s it had grown to').to.equal('authorization_pending');
      await clock.advance(5_000);
      expect((await poll(a, code)).body.error, '5 s is no longer enough').to.equal('slow_down');
      await clock.advance(20_000);
      expect((await poll(a, code)).body.error).to.equal('authorization_pending');
    });

    it('polls at the interval are never slowed down; each device code has its own', async () => {
      const first = await start();
      const second = await start();
      for (let i = 0; i < 3; i++) {
        expect((await poll(i % 2 === 0 ? a : b, first.device_code)).body.error).to.equal('authorization_pending');
        expect((await poll(a, second.device_code)).body.error).to.equal('authorization_pending');
        await clock.advance(5_000);
      }
    });

    it('a device polling on a timer of exactly its interval is not slowed down by a poll up to 1 s early (the one before reached us late)', async () => {
      // Go's golang.org/x/oauth2 (DeviceAccessToken) ticks from one request's start to the next;
      // polls are timed by when they arrive, but one request opens a connection and the next
      // reuses it, a proxy holds one longer: the gap seen here is the interval give or take that.
      const { device_code: code } = await start();
      expect((await poll(a, code)).body.error).to.equal('authorization_pending');
      await clock.advance(4_300);
      expect((await poll(b, code)).body.error, '4.3 s after the last').to.equal('authorization_pending');
      await clock.advance(5_700);
      expect((await poll(a, code)).body.error, 'then 5.7 s: the interval stayed 5 s').to.equal('authorization_pending');
      await clock.advance(3_999);
      expect((await poll(a, code)).body.error, 'more than 1 s early').to.equal('slow_down');
    });

    it('instances whose clocks disagree judge polls alike: a device polling every 5 s, here at one and there at another, is never slowed down', async () => {
      // Three seconds ahead of the others, as an unsynchronised host can be.
      const ahead = { now: () => clock.now() + 3_000, frozen: true, onJump: clock.onJump!.bind(clock) };
      const c = await startInstance({ mongodbUri: deploy.mongodbUri, redisUrl: deploy.redisUrl, secret: deploy.secret, issuer: deploy.issuer, settings: { ...deploy.settings, PORT: String(await freePort()) }, clock: ahead, storeClock: clock.now });
      try {
        const { device_code: code } = await start();
        for (const at of [c, a, c, b]) {
          expect((await poll(at, code)).body.error).to.equal('authorization_pending');
          await clock.advance(5_000);
        }
      } finally {
        await c.close();
      }
    });

    it('a poll is judged by when it arrived: one held up on its way to the store counts from its arrival, both ways', async () => {
      // A third instance whose link to the store of device codes can hold back a reply: the poll
      // has arrived, and its judgement waits for the store (a slow store, a busy instance).
      const link = await faultyLink(redis ? deploy.redisUrl! : deploy.mongodbUri);
      const c = await startInstance({
        mongodbUri: redis ? deploy.mongodbUri : link.uri,
        redisUrl: redis ? link.uri : undefined,
        secret: deploy.secret,
        issuer: deploy.issuer,
        settings: { ...deploy.settings, PORT: String(await freePort()) },
        clock,
        storeClock: clock.now,
      });
      /** A poll at `c` whose read of the device code is answered `heldMs` after it arrived. */
      const heldPoll = async (code: string, heldMs: number) => {
        const held = link.stallNextReply(code);
        const answer = poll(c, code);
        await held.stalled;
        await clock.advance(heldMs);
        held.resume();
        return (await answer).body.error;
      };
      try {
        const { device_code: code } = await start();
        expect(await heldPoll(code, 3_000), 'the first poll, judged 3 s after it arrived').to.equal('authorization_pending');
        await clock.advance(2_000);
        expect((await poll(a, code)).body.error, '5 s after the first arrived, 2 s after it was judged').to.equal('authorization_pending');
        await clock.advance(2_000);
        expect(await heldPoll(code, 4_000), '2 s after the last arrived, judged 6 s after it').to.equal('slow_down');
      } finally {
        await c.close();
        await link.close();
      }
    });

    it('an approved code is redeemed however soon it is polled; a code of another client is invalid_grant, not slow_down', async () => {
      const { device_code: code, user_code: userCode, verification_uri: verificationUri } = await start();
      expect((await poll(a, code)).body.error).to.equal('authorization_pending');
      const other = await poll(a, code, otherTv);
      expect(other.body.error).to.equal('invalid_grant');
      await browse(new UserAgent(), verificationUri, 'never:', { username: cast.user.username, password: PASSWORD, userCode });
      const tokens = await poll(b, code);
      expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
      expect(tokens.body.access_token).to.be.a('string');
    });

    it('is counted in gatehouse_token_errors_total under slow_down', async () => {
      const scrape = await (await fetch(`${a.url}/metrics`)).text();
      expect(scrape).to.match(/^gatehouse_token_errors_total\{error="slow_down"\} [1-9]/m);
    });
  });
}

for (const redis of [true, false]) {
  describe(`device flow: polls judged on the stores' own clock (${redis ? 'Redis' : 'MongoDB-wire only'})`, () => {
    let deploy: Deployment;
    let clock: TestClock;
    let gatehouse: RunningGatehouse;
    let tv: string;
    /** `command target` of every MongoDB command the instance sends while `counting`. */
    const mongoTrace: string[] = [];
    let counting = false;

    before(async () => {
      clock = testClock();
      deploy = await deployment(`device_store_clock_${redis ? 'redis' : 'mongo'}`, {
        redis,
        clock,
        onStoreCommand: (store, command, target) => {
          if (counting && store === 'mongodb') mongoTrace.push(`${command} ${target ?? '-'}`);
        },
      });
      gatehouse = await deploy.start();
      tv = await deviceClient(gatehouse, 'Hall TV');
    });
    after(async () => {
      await gatehouse?.close();
      await deploy?.drop();
    });

    const form = (body: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
    /** A new device code, and a poll of it at the token endpoint (its `error`). */
    async function startPolling(): Promise<() => Promise<string>> {
      const started = (await (await fetch(`${gatehouse.url}/device/auth`, form({ client_id: tv, scope: 'openid' }))).json()) as { device_code: string };
      return async () => ((await (await fetch(`${gatehouse.url}/token`, form({ client_id: tv, grant_type: DEVICE_GRANT, device_code: started.device_code }))).json()) as { error: string }).error;
    }

    it("an instance's clock jumping a minute ahead between two polls does not make the second one late: it is slow_down", async () => {
      const poll = await startPolling();
      expect(await poll()).to.equal('authorization_pending');
      // The device code lives 10 minutes: a minute on is still pending on every clock.
      await clock.advance(60_000);
      // By the stores' clock the two polls came well within 5 s of each other (two requests in a row).
      expect(await poll()).to.equal('slow_down');
    });

    if (!redis) {
      it("a poll reads the server's time with its own write, in two commands: no `hello` per poll", async () => {
        const poll = await startPolling();
        mongoTrace.length = 0;
        counting = true;
        try {
          expect(await poll()).to.equal('authorization_pending');
          expect(await poll()).to.equal('slow_down');
        } finally {
          counting = false;
        }
        expect(mongoTrace.filter((entry) => entry.startsWith('hello ')), mongoTrace.join(', ')).to.deep.equal([]);
        const polls = mongoTrace.filter((entry) => entry.endsWith(' device_polls'));
        expect(polls, mongoTrace.join(', ')).to.deep.equal(['findAndModify device_polls', 'update device_polls', 'findAndModify device_polls', 'update device_polls']);
      });
    }
  });
}
