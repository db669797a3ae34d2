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

/**
 * Socket failures Node raises itself. The drivers usually wrap them (MongoNetworkError, ioredis'
 * "Connection is closed"), but not always: the MongoDB driver rethrows the socket's own error
 * when a command written to a pooled connection the server has just closed fails while it waits
 * for 'drain' (`Error: This socket has been ended by the other party`, code EPIPE), seen at
 * /auth when FerretDB stopped under load. Such an error names no store; the driver it came
 * from is in its stack (Node creates it inside the driver's write call).
 */
const SOCKET_FAILURES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'ENOTCONN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_STREAM_WRITE_AFTER_END', 'ERR_STREAM_DESTROYED', 'ERR_SOCKET_CLOSED']);
const DRIVER_FRAME = /[\\/]node_modules[\\/](?:(mongodb|mongoose)|(ioredis))[\\/]/;

/**
 * The error's own fields, and the error it wraps: its `cause`, or for the MongoDB driver's
 * MongoBulkWriteError the driver error it was made from, which it keeps in `errorResponse` (a
 * connection closed during `bulkWrite`, e.g. a session upsert at /auth while FerretDB stopped).
 */
function describe(error: unknown): { name: string; message: string; code: unknown; stack: string; cause: unknown } {
  const { name, message, code, stack, cause, errorResponse } = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const inner = cause ?? (errorResponse instanceof Error ? errorResponse : undefined);
  return { name: typeof name === 'string' ? name : '', message: typeof message === 'string' ? message : '', code, stack: typeof stack === 'string' ? stack : '', cause: inner };
}

/** The store whose driver a bare socket error was raised in (its first driver frame), if any. */
function socketFailureIn(code: unknown, stack: string): StoreName | undefined {
  if (typeof code !== 'string' || !SOCKET_FAILURES.has(code)) return undefined;
  const frame = DRIVER_FRAME.exec(stack);
  if (frame === null) return undefined;
  return frame[1] === undefined ? 'redis' : 'mongodb';
}

/** The store an error says is unreachable (walking `cause` chains), or undefined for other errors. */
export function unavailableStore(error: unknown): StoreName | undefined {
  let current = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    if (current instanceof StoreUnavailableError) return current.store;
    const { name, message, code, stack, cause } = describe(current);
    if (MONGO_OUTAGE.has(name)) return 'mongodb';
    if (name === 'MaxRetriesPerRequestError' || REDIS_OUTAGE_MESSAGES.some((text) => message.includes(text))) return 'redis';
    const socketStore = socketFailureIn(code, stack);
    if (socketStore !== undefined) return socketStore;
    current = cause;
  }
  return undefined;
}

/** Whether the error, or one it wraps, is a failure Node raised on a socket (SOCKET_FAILURES). */
function isSocketFailure(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    const { code, cause } = describe(current);
    if (typeof code === 'string' && SOCKET_FAILURES.has(code)) return true;
    current = cause;
  }
  return false;
}

/**
 * asStoreError for a caller that knows which store it called (the OIDC adapters' operations,
 * src/storage/oidc/operation-hook.ts): a bare socket failure is then that store's outage, whatever
 * its stack says. Node raises some in its own I/O callbacks (`read ECONNRESET` at
 * TCP.onStreamRead, when a connection is reset while the MongoDB driver waits for a large write
 * to drain), with no driver frame for socketFailureIn to find. An error that names its store
 * keeps that store.
 */
export function fromStoreCall(store: StoreName, error: unknown): unknown {
  const known = asStoreError(error);
  if (known !== error || !isSocketFailure(error)) return known;
  return new StoreUnavailableError(store, { cause: error });
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
