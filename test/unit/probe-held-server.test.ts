import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import { listenHeld } from '../../src/http/held-server.ts';

const TIMEOUTS = { keepAliveTimeoutMs: 5_000, headersTimeoutMs: 5_000, requestTimeoutMs: 10_000 };

/**
 * Probe (probe26): what a client sends while the server starts (src/http/held-server.ts) reaches
 * the application whole once it is there — a token request's body held unread (larger than the
 * socket's buffers) is the body the application reads, and requests pipelined on one connection
 * are each answered, in order. A request lost or cut while held would be a lost grant.
 */
describe('probe: requests held while the server starts reach the application whole', () => {
  it('a POST body held unread, larger than the socket buffers, is read whole by the application once it is there', async () => {
    const held = await listenHeld(0, '127.0.0.1', TIMEOUTS);
    try {
      const port = (held.server.address() as AddressInfo).port;
      const body = Buffer.from(`grant_type=client_credentials&pad=${'x'.repeat(300_000)}`);
      const arrived = new Promise<void>((resolve) => held.server.once('request', () => resolve()));
      const answer = new Promise<string>((resolve, reject) => {
        const outgoing = request({ host: '127.0.0.1', port, path: '/token', method: 'POST', agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length } }, (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => resolve(text));
        });
        outgoing.once('error', reject);
        outgoing.end(body);
      });
      await arrived;
      held.serve((req, res) => {
        const hash = createHash('sha256');
        let length = 0;
        req.on('data', (chunk: Buffer) => {
          length += chunk.length;
          hash.update(chunk);
        });
        req.on('end', () => res.end(`${length} ${hash.digest('hex')}`));
      });
      expect(await answer).to.equal(`${body.length} ${createHash('sha256').update(body).digest('hex')}`);
    } finally {
      await held.abandon();
    }
  });

  it('requests pipelined on one connection while held are each answered, in order', async () => {
    const held = await listenHeld(0, '127.0.0.1', TIMEOUTS);
    try {
      const port = (held.server.address() as AddressInfo).port;
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      const arrived = new Promise<void>((resolve) => held.server.once('request', () => resolve()));
      socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\nGET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await arrived;
      const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      held.serve((req, res) => res.end(`served ${req.url};`));
      await ended;
      const bodies = [...received.matchAll(/served \/(\w+);/g)].map((match) => match[1]);
      expect(bodies).to.deep.equal(['first', 'second', 'third']);
      expect(received.match(/HTTP\/1\.1 200/g)).to.have.length(3);
    } finally {
      await held.abandon();
    }
  });
});
