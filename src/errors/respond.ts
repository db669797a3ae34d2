import type { Context, Middleware } from 'koa';
import type { GatehouseError } from './gatehouse-error.ts';
import { normalizeError } from './normalize.ts';
import { problemText, type ProblemCode, type ProblemParams } from './problems.ts';
import { StoreUnavailableError } from './store-unavailable.ts';

/** What the mapper logs with (pino's Logger fits); errors/ depends on nothing above it. */
export interface Logger {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** The one JSON shape of a Gatehouse error (OAuth's `error` / `error_description`, plus field details and the request id). */
export interface ErrorBody {
  readonly error: string;
  readonly error_description: string;
  /** Same text as error_description; kept for admin API clients written against earlier releases. */
  readonly message: string;
  /** The error as a whole as a stable code and its values (src/errors/problems.ts), for clients that say it in their reader's language. */
  readonly code?: ProblemCode;
  readonly params?: ProblemParams;
  /** Each field at fault: `code` and `params` name the problem the same way. */
  readonly details?: ReadonlyArray<{ readonly path: string; readonly message: string; readonly code?: ProblemCode; readonly params?: ProblemParams }>;
  readonly request_id?: string | undefined;
}

/** What an error says when its own message is not for the caller (or carries no problem code): by its OAuth code. */
const GENERIC: Readonly<Record<string, ProblemCode>> = {
  server_error: 'internal_error',
  temporarily_unavailable: 'unavailable',
};

export function errorBody(error: GatehouseError, requestId: string | undefined): ErrorBody {
  const generic = GENERIC[error.code] ?? 'request_failed';
  const problem = error.expose ? (error.problem ?? (GENERIC[error.code] === undefined ? undefined : { code: generic })) : { code: generic };
  const description = error.expose ? error.description : problemText(generic);
  return {
    error: error.code,
    error_description: description,
    message: description,
    ...(problem === undefined ? {} : { code: problem.code, ...(problem.params === undefined ? {} : { params: problem.params }) }),
    ...(error.details.length > 0 ? { details: error.details } : {}),
    request_id: requestId,
  };
}

/** Logs what is Gatehouse's fault (the logger adds the request id); the caller's mistakes are not logged. */
export function logError(logger: Logger, error: GatehouseError, requestId: string | undefined): void {
  if (error instanceof StoreUnavailableError) logger.warn({ err: error.cause ?? error, store: error.store, requestId }, 'store unavailable');
  else if (error.status >= 500) logger.error({ err: error.cause ?? error, requestId }, 'request failed');
}

/**
 * Status, no-store, Retry-After and the error's own headers (e.g. a WWW-Authenticate challenge).
 * An error answer never redirects: a `Location` that the failed response had already set (the
 * library's redirect at /auth, before a step after it met a store outage) goes with it.
 */
export function applyErrorHeaders(ctx: Pick<Context, 'set' | 'remove'> & { status: number }, error: GatehouseError): void {
  ctx.status = error.status;
  ctx.remove('Location');
  ctx.set('Cache-Control', 'no-store');
  if (error.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.retryAfterSeconds));
  for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
}

/** Renders an error as a hosted page (supplied by src/interactions; errors/ knows no views). */
export type ErrorPageRenderer = (ctx: Context, error: GatehouseError) => Promise<void>;

export interface ErrorResponderOptions {
  readonly logger: Logger;
  /**
   * Browser surfaces pass their page renderer: they answer a page unless the request prefers
   * JSON (`Accept: application/json` ranked above text/html). API surfaces pass none and always
   * answer JSON, whatever the Accept header says.
   */
  readonly page?: ErrorPageRenderer | undefined;
}

/** The one place a thrown error becomes a response, for every Koa surface Gatehouse owns. */
export function respondToError(ctx: Context, raw: unknown, { logger, page }: ErrorResponderOptions): Promise<void> | void {
  const error = normalizeError(raw);
  const requestId = (ctx.state.requestId as string | undefined) ?? (ctx.response.get('X-Request-Id') || undefined);
  logError(logger, error, requestId);
  applyErrorHeaders(ctx, error);
  if (page !== undefined && ctx.accepts('html', 'json') === 'html') return page(ctx, error);
  ctx.body = errorBody(error, requestId);
}

/** Middleware form of respondToError: wrap a router (or the whole app) with it. */
export function errorResponder(options: ErrorResponderOptions): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (raw) {
      await respondToError(ctx, raw, options);
    }
  };
}
