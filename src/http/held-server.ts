import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createHttpServer, type ConnectionTimeouts } from './server-timeouts.ts';

/**
 * An HTTP server bound before the application behind it exists: the port is taken first, so a
 * port in use stops startup before it has written anything, and requests that arrive meanwhile
 * wait (unread) until `serve` hands them, and every later one, to the application.
 */
export interface HeldServer {
  readonly server: Server;
  serve(listener: RequestListener): void;
  /** Startup failed: the port is given back, waiting connections are closed. */
  abandon(): Promise<void>;
}

/** Listens on `port` and `host`; rejects with the bind's own error (EADDRINUSE, EACCES, ...). */
export function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A HeldServer on `port` and `host`; `prepare` sees it before it listens (its event handlers). */
export async function listenHeld(port: number, host: string, timeouts: ConnectionTimeouts, prepare: (server: Server) => void = () => {}): Promise<HeldServer> {
  let listener: RequestListener | undefined;
  const waiting: Array<[IncomingMessage, ServerResponse]> = [];
  const server = createHttpServer((request, response) => {
    if (listener === undefined) waiting.push([request, response]);
    else listener(request, response);
  }, timeouts);
  prepare(server);
  await listenOn(server, port, host);
  return {
    server,
    serve(given) {
      listener = given;
      for (const [request, response] of waiting.splice(0)) given(request, response);
    },
    abandon() {
      waiting.length = 0;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}
