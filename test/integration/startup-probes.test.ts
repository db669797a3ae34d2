import type net from 'node:net';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { testClock } from '../helpers/clock.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { startInstance } from '../helpers/instance.ts';
import { eventually } from '../helpers/poll.ts';
import { freePort } from '../helpers/redis-server.ts';
import { dropDatabase, freshDatabaseUri, randomSecret, serviceUrls } from '../helpers/stores.ts';
import { tcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

/**
 * The port is bound before the stores are opened (src/server.ts, src/http/held-server.ts). While
 * MongoDB has not answered yet, an orchestrator's probes get their answer at once — alive (200),
 * not ready (503) — on the issuer's path, and a request that waited too long for the start is told
 * to retry; once started, one warn line counts those.
 */
describe('health probes while the stores come up (real FerretDB behind a held link)', function () {
  this.timeout(60_000);
  let proxy: TcpProxy | undefined;
  let gatehouse: RunningGatehouse | undefined;
  let mongodbUri: string;

  after(async () => {
    await gatehouse?.close();
    await proxy?.close();
    if (mongodbUri !== undefined) await dropDatabase(mongodbUri);
  });

  it('/healthz 200 and /readyz 503 {status: starting} at once; then served by the application; the 503s of the start counted in one warn line', async () => {
    mongodbUri = freshDatabaseUri('startup_probes');
    // MongoDB's first bytes wait until the test lets them through: the start waits in openStores.
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    proxy = await tcpProxy(mongodbUri, (client: net.Socket, upstream: net.Socket) => {
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      client.on('data', (chunk: Buffer) => void released.then(() => upstream.write(chunk)));
    });
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}/sso`;
    const clock = testClock();
    const logs = captureLogs('info');
    const starting = startInstance({
      mongodbUri: proxy.uri,
      redisUrl: serviceUrls().redisUrl,
      secret: randomSecret(),
      issuer,
      clock,
      logger: logs.logger,
      settings: { PORT: String(port), GATEHOUSE_MONGODB_TIMEOUT: '60', GATEHOUSE_REDIS_PREFIX: `gh-startup-probes-${port}:` },
    });
    const alive = await eventually(
      () => fetch(`${issuer}/healthz`).catch(() => undefined),
      (response) => response !== undefined,
    );
    expect(alive!.status).to.equal(200);
    expect(alive!.headers.get('cache-control')).to.equal('no-store');
    expect(await alive!.json()).to.deep.equal({ status: 'ok' });
    const ready = await fetch(`${issuer}/readyz`);
    expect(ready.status).to.equal(503);
    expect(await ready.json()).to.deep.equal({ status: 'starting' });

    // A request that waits longer than the hold allows (10 s on Gatehouse's clock) is told to retry.
    // The clock moves until the answer comes: however late the request reaches the server, it is then held.
    let answered: Response | undefined;
    const early = fetch(`${issuer}/.well-known/openid-configuration`).then((response) => (answered = response));
    while (answered === undefined) {
      await clock.advance(10_000);
      await Promise.race([early, new Promise((resolve) => setTimeout(resolve, 50))]);
    }
    const refused = await early;
    expect(refused.status).to.equal(503);
    expect(refused.headers.get('retry-after')).to.equal('5');
    expect(await refused.json()).to.include({ error: 'temporarily_unavailable' });

    release();
    gatehouse = await starting;
    const readyNow = await fetch(`${issuer}/readyz`);
    expect(readyNow.status).to.equal(200);
    expect(await readyNow.json()).to.have.property('status', 'ok');
    const warned = logs.lines().filter((line) => line.requests !== undefined && String(line.msg).includes('503 while starting'));
    expect(warned).to.have.length(1);
    expect(warned[0]).to.include({ level: 'warn', requests: 1 });
  });
});
