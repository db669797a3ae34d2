import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { startInstance } from '../helpers/instance.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

/** Everything the server sent until it closed the connection, and how long that took. */
function trickle(url: string, head: string, drip: string, everyMs: number): Promise<{ answer: string; closedAfterMs: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket: Socket = connect(Number(port), hostname);
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    const give = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after 20 s; got: ${answer}`));
    }, 20_000);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(give);
      resolve({ answer, closedAfterMs: Date.now() - started });
    });
    socket.on('connect', () => {
      socket.write(head);
      let index = 0;
      timer = setInterval(() => {
        if (!socket.writable) return;
        socket.write(drip[index % drip.length]!);
        index += 1;
      }, everyMs);
    });
  });
}

describe('connection handling for running behind a proxy', () => {
  const database = databaseForSuite('connections');
  let defaults: RunningGatehouse;
  let strict: RunningGatehouse;

  before(async () => {
    const secret = randomSecret();
    defaults = await startInstance({ mongodbUri: database.uri, secret });
    strict = await startInstance({ mongodbUri: database.uri, secret, settings: { GATEHOUSE_HEADERS_TIMEOUT: '1', GATEHOUSE_REQUEST_TIMEOUT: '2' } });
  });
  after(async () => {
    await defaults?.close();
    await strict?.close();
  });

  it('keeps idle connections longer than a load balancer does (65 s), and says so in Keep-Alive', async () => {
    expect(defaults.server.keepAliveTimeout).to.equal(65_000);
    expect(defaults.server.headersTimeout).to.equal(20_000);
    expect(defaults.server.requestTimeout).to.equal(30_000);
    const response = await fetch(`${defaults.url}/healthz`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('keep-alive')).to.equal('timeout=65');
  });

  it('cuts off a client that sends its headers a byte at a time (GATEHOUSE_HEADERS_TIMEOUT)', async () => {
    const { answer, closedAfterMs } = await trickle(strict.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n', 100);
    expect(answer).to.match(/^HTTP\/1\.1 408/);
    // Cut at the 1 s deadline, not by the 20 s default (Node's own timers: room for a busy machine).
    expect(closedAfterMs).to.be.within(900, 15_000);
  });

  it('cuts off a client that trickles its body (GATEHOUSE_REQUEST_TIMEOUT)', async () => {
    const head = 'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n';
    const { answer, closedAfterMs } = await trickle(strict.url, head, 'grant_type=client_credentials&', 100);
    expect(answer).to.match(/^HTTP\/1\.1 408/);
    // Cut at the 2 s deadline, not by the 30 s default.
    expect(closedAfterMs).to.be.within(1_900, 15_000);
  });
});
