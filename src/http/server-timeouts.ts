import { createServer, type RequestListener, type Server } from 'node:http';

export interface ConnectionTimeouts {
  /** Idle time before a kept-alive connection is closed; longer than the proxy's idle timeout. */
  readonly keepAliveTimeoutMs: number;
  /** Time a client has to send a request's headers. */
  readonly headersTimeoutMs: number;
  /** Time a client has to send a whole request (headers and body). */
  readonly requestTimeoutMs: number;
}

/**
 * An HTTP server with connection handling for running behind a proxy. Node closes idle
 * keep-alive connections after 5 s, sooner than load balancers' idle timeouts (60 s is common),
 * which shows as intermittent 502s when the proxy reuses a connection Node just closed; and it
 * checks header/request deadlines only every 30 s. Here the keep-alive outlives the proxy, and
 * slow senders are cut off (408) within a second or so of their deadline.
 */
export function createHttpServer(listener: RequestListener, timeouts: ConnectionTimeouts): Server {
  const shortest = Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs);
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(250, Math.min(1_000, Math.floor(shortest / 4))),
    },
    listener,
  );
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  return server;
}
