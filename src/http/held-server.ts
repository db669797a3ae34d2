import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { clockTimer, systemClock, type Clock, type ClockTimer } from '../clock.ts';
import { problemText } from '../errors/problems.ts';
import { STORE_RETRY_AFTER_SECONDS } from '../errors/store-unavailable.ts';
import { isPath } from '../routes/match.ts';
import { createHttpServer, type ConnectionTimeouts } from './server-timeouts.ts';

/**
 * An HTTP server bound before the application behind it exists: the port is taken first, so a
 * port in use stops startup before it has written anything, and requests that arrive meanwhile
 * wait (unread) until `serve` hands them, and every later one, to the application — a bounded
 * wait: see HoldOptions.
 */
export interface HeldServer {
  readonly server: Server;
  /** Hands every waiting and later request to `listener`; says how many the hold answered 503. */
  serve(listener: RequestListener): HoldSummary;
  /** Startup failed: the port is given back, waiting connections are closed. */
  abandon(): Promise<void>;
}

/** What the hold did before the application was there. */
export interface HoldSummary {
  /** Requests answered 503 (no place to wait, or waited too long); the probes' answers not counted. */
  readonly unavailable: number;
}

/** The health probes' paths (the routes table's, base path included). */
export interface ProbePaths {
  readonly healthz: string;
  readonly readyz: string;
}

export interface HoldOptions {
  /** Sees the server before it listens (its event handlers). */
  readonly prepare?: (server: Server) => void;
  /**
   * At most this many requests wait at once; one more is answered 503 at once. A startup that
   * takes long (a store slow to answer) must not gather every connection a busy proxy sends.
   */
  readonly maxWaiting?: number;
  /** A request that has waited this long is answered 503: its client retries instead of timing out. */
  readonly maxWaitMs?: number;
  /** Times the wait (tests move it). */
  readonly clock?: Clock;
  /**
   * Answered at once while the application is not there, without taking a place: the liveness
   * probe 200 (the process is alive: an orchestrator must not restart a slow start), the readiness
   * probe 503 (not ready yet). Matched as the routes are (case, one trailing slash; GET and HEAD).
   */
  readonly probes?: ProbePaths;
}

/** Enough for a restart under load to keep the first seconds' requests; a few MB of sockets at most. */
export const MAX_WAITING = 512;
/** Longer than a start takes with its stores answering; well under a proxy's usual 60 s. */
export const MAX_WAIT_MS = 10_000;

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

/**
 * Not started yet: the answer of a store outage (503 `temporarily_unavailable` + Retry-After,
 * src/errors/store-unavailable.ts) in its JSON shape (src/errors/respond.ts); no pages exist yet.
 */
function notYet(response: ServerResponse): void {
  const description = problemText('unavailable');
  response.writeHead(503, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Retry-After': String(STORE_RETRY_AFTER_SECONDS),
  });
  response.end(JSON.stringify({ error: 'temporarily_unavailable', error_description: description, message: description, code: 'unavailable' }));
}

/** The answer of a probe while starting, or false for any other request. */
function answerProbe(request: IncomingMessage, response: ServerResponse, probes: ProbePaths | undefined): boolean {
  if (probes === undefined || (request.method !== 'GET' && request.method !== 'HEAD')) return false;
  const url = request.url ?? '';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  const live = isPath(path, probes.healthz);
  if (!live && !isPath(path, probes.readyz)) return false;
  const body = JSON.stringify(live ? { status: 'ok' } : { status: 'starting' });
  response.writeHead(live ? 200 : 503, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
  response.end(request.method === 'HEAD' ? undefined : body);
  return true;
}

interface Waiting {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  timer?: ClockTimer;
}

/** A HeldServer on `port` and `host`. */
export async function listenHeld(port: number, host: string, timeouts: ConnectionTimeouts, options: HoldOptions = {}): Promise<HeldServer> {
  const { prepare = () => {}, maxWaiting = MAX_WAITING, maxWaitMs = MAX_WAIT_MS, clock = systemClock, probes } = options;
  let listener: RequestListener | undefined;
  let unavailable = 0;
  const refuse = (response: ServerResponse) => {
    unavailable += 1;
    notYet(response);
  };
  const waiting = new Set<Waiting>();
  function release(entry: Waiting): void {
    entry.timer?.cancel();
    waiting.delete(entry);
  }
  const server = createHttpServer((request, response) => {
    if (listener !== undefined) return listener(request, response);
    if (answerProbe(request, response, probes)) return undefined;
    if (waiting.size >= maxWaiting) return refuse(response);
    const entry: Waiting = { request, response };
    waiting.add(entry);
    // A client that gave up frees its place.
    response.once('close', () => release(entry));
    entry.timer = clockTimer(clock, maxWaitMs, () => {
      if (!waiting.has(entry)) return;
      release(entry);
      refuse(response);
    });
  }, timeouts);
  prepare(server);
  await listenOn(server, port, host);
  return {
    server,
    serve(given) {
      listener = given;
      const held = [...waiting];
      for (const entry of held) release(entry);
      for (const { request, response } of held) given(request, response);
      return { unavailable };
    },
    abandon() {
      for (const entry of [...waiting]) release(entry);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}
