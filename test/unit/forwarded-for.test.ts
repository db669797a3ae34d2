import { expect } from 'chai';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import { forwardedFor } from '../../src/oidc/mount.ts';

/** A request from `remote` with these headers, as the HTTP server would hand it over. */
function request(remote: string, headers: Record<string, string>): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: remote });
  const req = new IncomingMessage(socket);
  req.headers = headers;
  return req;
}

/** What Gatehouse's Koa app (proxy = trustProxy, maxIpsCount = hops) reads, as the mount used to forward it: `ctx.ips`, else `ctx.ip`. */
function koaReading(req: IncomingMessage, trustProxy: boolean, hops: number): string {
  const app = new Koa({ proxy: trustProxy, maxIpsCount: hops });
  const ctx = app.createContext(req, {} as never);
  if (!trustProxy) return req.socket.remoteAddress ?? '';
  return ctx.ips.length > 0 ? ctx.ips.join(', ') : ctx.ip;
}

/**
 * The OAuth endpoints reach the provider without a Koa context of Gatehouse's (src/app.ts), so
 * the caller's address they forward to it is read by src/oidc/mount.ts itself: it must be what
 * Gatehouse's app reads for every other path, or rate limits and audit events would see another
 * address depending on the endpoint.
 */
describe('forwardedFor: the caller as Gatehouse reads it, without a Koa context', () => {
  const headerValues = ['', '203.0.113.7', '198.51.100.1, 203.0.113.7', '198.51.100.1,203.0.113.7 ,  192.0.2.5', ' , ', ',', 'garbage'];
  for (const trustProxy of [false, true]) {
    for (const hops of [0, 1, 2]) {
      it(`matches Koa's reading (trust proxy: ${trustProxy}, hops: ${hops})`, () => {
        for (const value of [undefined, ...headerValues]) {
          const headers: Record<string, string> = value === undefined ? {} : { 'x-forwarded-for': value };
          const req = request('10.0.0.9', headers);
          expect(forwardedFor(req, { trustProxy, proxyHops: hops }), `X-Forwarded-For: ${String(value)}`).to.equal(koaReading(request('10.0.0.9', headers), trustProxy, hops));
        }
      });
    }
  }

  it('ignores X-Forwarded-For unless the proxy is trusted, and keeps only the last hop by default', () => {
    const headers = { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' };
    expect(forwardedFor(request('10.0.0.9', headers), { trustProxy: false, proxyHops: 1 })).to.equal('10.0.0.9');
    expect(forwardedFor(request('10.0.0.9', headers), { trustProxy: true, proxyHops: 1 })).to.equal('203.0.113.7');
  });
});
