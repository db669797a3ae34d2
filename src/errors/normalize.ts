import { ZodError } from 'zod';
import { GatehouseError, InvalidRequestError, type ErrorDetail } from './gatehouse-error.ts';
import { asStoreError, StoreUnavailableError } from './store-unavailable.ts';
import { UnstorableTextError } from './unstorable-text.ts';

/** Codes for errors that carry only an HTTP status (Koa's ctx.throw, body parsers). */
const CODES: Readonly<Record<number, string>> = {
  400: 'invalid_request',
  401: 'invalid_token',
  403: 'access_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'invalid_request',
  415: 'invalid_request',
  429: 'too_many_requests',
  503: 'temporarily_unavailable',
};

export function zodDetails(error: ZodError): ErrorDetail[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String);
    // A strict object's unknown members: one detail each, named by its own path.
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...path, key].join('.'), message: 'unknown field' }));
    return [{ path: path.join('.'), message: issue.message }];
  });
}

interface HttpishError {
  /** oidc-provider's errors: `message` is the OAuth code, this the text. */
  error_description?: unknown;
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  message?: unknown;
}

/**
 * Any thrown value as a GatehouseError: Gatehouse's own errors as they are; store outages (raw
 * driver errors included) as StoreUnavailableError; zod failures as 400 with one detail per
 * issue; errors that carry an HTTP status (Koa's ctx.throw, http-errors) with that status; the
 * rest as an unexposed 500 whose `cause` is the original.
 */
export function normalizeError(raw: unknown): GatehouseError {
  const store = asStoreError(raw);
  if (store instanceof StoreUnavailableError || store instanceof UnstorableTextError) return store;
  if (raw instanceof GatehouseError) return raw;
  if (raw instanceof ZodError) {
    const details = zodDetails(raw);
    return new InvalidRequestError(details.map((d) => `${d.path || 'body'}: ${d.message}`).join('; '), details);
  }
  const error = (typeof raw === 'object' && raw !== null ? raw : {}) as HttpishError;
  const status = typeof error.status === 'number' ? error.status : typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500 && typeof error.error_description === 'string' && typeof error.message === 'string') {
    return new GatehouseError(error.error_description, { status, code: error.message, expose: error.expose !== false, cause: raw });
  }
  if (status >= 400 && status < 500) {
    const expose = error.expose !== false;
    const message = expose && typeof error.message === 'string' ? error.message : 'the request was refused';
    return new GatehouseError(message, { status, code: CODES[status] ?? 'invalid_request', expose, cause: raw });
  }
  return new GatehouseError('internal error', { status: status === 503 ? 503 : 500, code: CODES[status] ?? 'server_error', expose: false, cause: raw });
}
