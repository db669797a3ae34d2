import { GatehouseError } from './gatehouse-error.ts';
import { isUnstorableText, UnstorableTextError } from './unstorable-text.ts';

export type StoreName = 'mongodb' | 'redis';

/** Seconds a client should wait before retrying after a store outage. */
export const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * A backing store did not answer in time: 503 `temporarily_unavailable` + Retry-After on every
 * surface. Also shaped like oidc-provider's own errors (statusCode, message = OAuth error code,
 * error_description, allow_redirect), so when an adapter throws it the provider answers
 * `503 temporarily_unavailable` instead of `500 server_error`.
 */
export class StoreUnavailableError extends GatehouseError {
  readonly store: StoreName;
  readonly statusCode = 503;
  readonly error = 'temporarily_unavailable';
  readonly error_description = 'the service is temporarily unavailable, try again shortly';
  readonly allow_redirect = true;

  constructor(store: StoreName, options?: { cause?: unknown }) {
    super('temporarily_unavailable', {
      status: 503,
      code: 'temporarily_unavailable',
      expose: true,
      retryAfterSeconds: STORE_RETRY_AFTER_SECONDS,
      cause: options?.cause,
    });
    this.store = store;
  }

  override get description(): string {
    return this.error_description;
  }
}

const MONGO_OUTAGE = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);

const REDIS_OUTAGE_MESSAGES = [
  "Stream isn't writeable",
  'Connection is closed',
  'Command timed out',
  'Reached the max retries per request limit',
  'connect ECONNREFUSED',
];

function describe(error: unknown): { name: string; message: string; cause: unknown } {
  const { name, message, cause } = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  return { name: typeof name === 'string' ? name : '', message: typeof message === 'string' ? message : '', cause };
}

/** The store an error says is unreachable (walking `cause` chains), or undefined for other errors. */
export function unavailableStore(error: unknown): StoreName | undefined {
  let current = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    if (current instanceof StoreUnavailableError) return current.store;
    const { name, message, cause } = describe(current);
    if (MONGO_OUTAGE.has(name)) return 'mongodb';
    if (name === 'MaxRetriesPerRequestError' || REDIS_OUTAGE_MESSAGES.some((text) => message.includes(text))) return 'redis';
    current = cause;
  }
  return undefined;
}

/**
 * Rethrows store outages as StoreUnavailableError, and text the store cannot hold (a NUL
 * character on FerretDB/PostgreSQL) as UnstorableTextError (400); anything else unchanged.
 */
export function asStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || error instanceof UnstorableTextError) return error;
  if (isUnstorableText(error)) return new UnstorableTextError({ cause: error });
  const store = unavailableStore(error);
  return store === undefined ? error : new StoreUnavailableError(store, { cause: error });
}
