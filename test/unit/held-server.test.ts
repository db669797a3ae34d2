import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { listenHeld } from '../../src/http/held-server.ts';
import { bindPorts } from '../../src/http/bind-ports.ts';
import { StartupError } from '../../src/errors/startup-error.ts';

const TIMEOUTS = { keepAliveTimeoutMs: 5_000, headersTimeoutMs: 5_000, requestTimeoutMs: 10_000 };
const CONFIG = { host: '127.0.0.1', connections: TIMEOUTS, metrics: { port: undefined, token: undefined } };

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sent = request({ host: '127.0.0.1', port, path }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
    sent.once('error', reject);
    sent.end();
  });
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
});
