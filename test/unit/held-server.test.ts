import { request, type ClientRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { listenHeld } from '../../src/http/held-server.ts';
import { bindPorts } from '../../src/http/bind-ports.ts';
import { StartupError } from '../../src/errors/startup-error.ts';
import { testClock } from '../helpers/clock.ts';

const TIMEOUTS = { keepAliveTimeoutMs: 5_000, headersTimeoutMs: 5_000, requestTimeoutMs: 10_000 };
const CONFIG = { host: '127.0.0.1', connections: TIMEOUTS, metrics: { port: undefined, token: undefined } };

interface Answer {
  status: number;
  body: string;
  retryAfter?: string | undefined;
}

function get(port: number, path: string, sent?: (request: ClientRequest) => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, body, ...(response.headers['retry-after'] === undefined ? {} : { retryAfter: response.headers['retry-after'] }) }));
    });
    outgoing.once('error', reject);
    outgoing.end();
    sent?.(outgoing);
  });
}

/** Resolves once `count` requests have reached the server (held or not). */
function arrivals(server: Server, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const heard = () => {
      seen += 1;
      if (seen < count) return;
      server.off('request', heard);
      resolve();
    };
    server.on('request', heard);
  });
}

/** The server's side of every request that reaches it, in order: whether each was answered yet. */
function responses(server: Server): ServerResponse[] {
  const seen: ServerResponse[] = [];
  server.on('request', (_request, response: ServerResponse) => seen.push(response));
  return seen;
}

function expectStarting(answer: Answer): void {
  expect(answer.status).to.equal(503);
  expect(answer.retryAfter).to.equal('5');
  expect(JSON.parse(answer.body)).to.include({ error: 'temporarily_unavailable', code: 'unavailable' });
}

/**
 * The server's port is bound before startup writes anything (src/server.ts): a request that
 * arrives while it starts waits for the application, and is answered by it.
 */
describe('a server bound before its application (src/http/held-server.ts, bind-ports.ts)', () => {
  it('holds a request that arrives before the application and hands it over once there is one', async () => {
    const held = await listenHeld(0, '127.0.0.1', TIMEOUTS);
    try {
      const port = (held.server.address() as AddressInfo).port;
      const arrived = new Promise<void>((resolve) => held.server.once('request', () => resolve()));
      const answer = get(port, '/early');
      await arrived;
      held.serve((req, res) => res.end(`served ${req.url}`));
      expect(await answer).to.deep.equal({ status: 200, body: 'served /early' });
      expect(await get(port, '/later')).to.deep.equal({ status: 200, body: 'served /later' });
    } finally {
      await held.abandon();
    }
  });

  it('a port in use is a StartupError naming PORT, the metrics port one naming GATEHOUSE_METRICS_PORT; abandon gives the port back', async () => {
    const first = await bindPorts({ ...CONFIG, port: 0 });
    const taken = (first.main.server.address() as AddressInfo).port;
    try {
      const refused = await bindPorts({ ...CONFIG, port: taken }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).to.be.instanceOf(StartupError).with.property('setting', 'PORT');

      const metricsRefused = await bindPorts({ ...CONFIG, port: 0, metrics: { port: taken, token: undefined } }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(metricsRefused).to.be.instanceOf(StartupError).with.property('setting', 'GATEHOUSE_METRICS_PORT');
    } finally {
      await first.abandon();
    }
    expect(first.main.server.listening, 'given back').to.equal(false);
  });

  it('holds at most maxWaiting requests: one more is answered 503 temporarily_unavailable with Retry-After at once, and the held ones are served', async () => {
    const held = await listenHeld(0, '127.0.0.1', TIMEOUTS, { maxWaiting: 2, clock: testClock({ frozen: true }) });
    try {
      const port = (held.server.address() as AddressInfo).port;
      const seen = responses(held.server);
      const two = arrivals(held.server, 2);
      const first = get(port, '/one');
      const second = get(port, '/two');
      await two;
      expectStarting(await get(port, '/three'));
      expect(seen.map((response) => response.writableEnded)).to.deep.equal([false, false, true]);
      held.serve((req, res) => res.end(`served ${req.url}`));
      expect(await first).to.deep.equal({ status: 200, body: 'served /one' });
      expect(await second).to.deep.equal({ status: 200, body: 'served /two' });
    } finally {
      await held.abandon();
    }
  });

  it('a request that has waited maxWaitMs on the clock is answered 503 with Retry-After; one whose client went away frees its place', async () => {
    const clock = testClock({ frozen: true });
    const held = await listenHeld(0, '127.0.0.1', TIMEOUTS, { maxWaiting: 1, maxWaitMs: 10_000, clock });
    try {
      const port = (held.server.address() as AddressInfo).port;
      const seen = responses(held.server);
      let arrived = arrivals(held.server, 1);
      const waiting = get(port, '/slow');
      await arrived;
      await clock.advance(9_999);
      expect(seen[0]!.writableEnded, 'still waits before maxWaitMs').to.equal(false);
      await clock.advance(1);
      expectStarting(await waiting);

      // A client that gives up while held: its place is free again for the next request.
      let closedOnServer: Promise<void> | undefined;
      arrived = new Promise<void>((resolve) =>
        held.server.once('request', (_req, res: ServerResponse) => {
          closedOnServer = new Promise<void>((closed) => res.once('close', () => closed()));
          resolve();
        }),
      );
      let abandoned: ClientRequest | undefined;
      const gaveUp = get(port, '/gave-up', (outgoing) => (abandoned = outgoing)).catch(() => 'gone');
      await arrived;
      abandoned!.destroy();
      expect(await gaveUp).to.equal('gone');
      await closedOnServer;
      arrived = arrivals(held.server, 1);
      const next = get(port, '/next');
      await arrived;
      expect(seen.at(-1)!.writableEnded, 'held, not refused').to.equal(false);
      held.serve((req, res) => res.end(`served ${req.url}`));
      expect(await next).to.deep.equal({ status: 200, body: 'served /next' });
    } finally {
      await held.abandon();
    }
  });
  it('while it waits for the application, the liveness probe answers 200 at once and the readiness probe 503 at once (base path, trailing slash, HEAD); neither takes a place; serve() says how many requests were answered 503', async () => {
    const clock = testClock({ frozen: true });
    const probes = { healthz: '/sso/healthz', readyz: '/sso/readyz' };
    const held = await listenHeld(0, '127.0.0.1', TIMEOUTS, { maxWaiting: 1, maxWaitMs: 10_000, clock, probes });
    try {
      const port = (held.server.address() as AddressInfo).port;
      const alive = await get(port, '/sso/healthz');
      expect(alive.status).to.equal(200);
      expect(JSON.parse(alive.body)).to.deep.equal({ status: 'ok' });
      expect((await get(port, '/sso/HEALTHZ/?probe=1')).status, 'folded as the routes are').to.equal(200);
      const head = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const outgoing = request({ host: '127.0.0.1', port, path: '/sso/healthz', method: 'HEAD', agent: false }, (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode!, body }));
        });
        outgoing.once('error', reject);
        outgoing.end();
      });
      expect(head).to.deep.equal({ status: 200, body: '' });
      const ready = await get(port, '/sso/readyz');
      expect(ready.status).to.equal(503);
      expect(JSON.parse(ready.body)).to.deep.equal({ status: 'starting' });
      // Without the base path it is no probe: it waits like any request, then is answered 503.
      const stray = arrivals(held.server, 1);
      const unprefixed = get(port, '/healthz');
      await stray;
      await clock.advance(10_000);
      expectStarting(await unprefixed);

      // Neither probe took the one place: this request waits, and one more is refused.
      const arrived = arrivals(held.server, 1);
      const waiting = get(port, '/token');
      await arrived;
      expectStarting(await get(port, '/overflow'));
      const summary = held.serve((req, res) => res.end(`served ${req.url}`));
      expect(await waiting).to.deep.equal({ status: 200, body: 'served /token' });
      // /healthz without the base path (waited too long) and /overflow (no place): two 503s; the probes' answers are not counted.
      expect(summary).to.deep.equal({ unavailable: 2 });
      expect(await get(port, '/sso/healthz')).to.deep.equal({ status: 200, body: 'served /sso/healthz' });
    } finally {
      await held.abandon();
    }
  });
});
