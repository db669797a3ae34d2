import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly method: string;
  readonly url: URL;
  readonly body: string;
}

/**
 * The applications' side: a tiny HTTP server on another origin that answers every redirect
 * (GET callbacks, form_post callbacks, post-logout landing) and remembers what it got.
 */
export class RelyingPartyServer {
  readonly received: Received[] = [];
  #server: Server | undefined;
  origin = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.received.push({ method: req.method ?? 'GET', url: new URL(req.url ?? '/', this.origin), body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><html lang="en"><title>App</title><main><h1>Back in the app</h1></main></html>');
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    // localhost, not 127.0.0.1: a different origin from the issuer's, as in production.
    this.origin = `http://localhost:${(this.#server.address() as AddressInfo).port}`;
  }

  last(path: string): Received | undefined {
    return this.received.filter((r) => r.url.pathname === path).at(-1);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.#server === undefined ? resolve() : this.#server.close(() => resolve())));
  }
}
