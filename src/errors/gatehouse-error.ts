/** One problem with one field of the input, e.g. `{ path: 'redirect_uris.0', message: 'must be https' }`. */
export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
  /** With a password policy rule as `message` (the account page's form): the number the rule asks for. */
  readonly limit?: number;
  /** The problem's stable code (src/errors/problems.ts); added from `message` when the error is answered. */
  readonly code?: string;
  /** The values the problem's text names (`{max: 200}`). */
  readonly params?: Readonly<Record<string, string | number>>;
}

export interface GatehouseErrorOptions {
  /** HTTP status the error answers with. */
  readonly status: number;
  /** OAuth / HTTP error code (`invalid_request`, `not_found`, `conflict`, `temporarily_unavailable`, ...). */
  readonly code: string;
  /** Whether the message may be shown to the caller; unexposed errors answer a generic text. */
  readonly expose: boolean;
  readonly details?: readonly ErrorDetail[] | undefined;
  /** Answered as `Retry-After` (503s and 429s). */
  readonly retryAfterSeconds?: number | undefined;
  /** Extra response headers, e.g. a `WWW-Authenticate` challenge. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Process exit code when the CLI ends on this error (defaults from the status, see exitCodeFor). */
  readonly exitCode?: number | undefined;
  readonly cause?: unknown;
}

/** sysexits.h codes the CLI and the server use. */
export const EXIT = { failure: 1, usage: 2, tempFail: 75, config: 78 } as const;

/** 4xx input errors are usage errors (2), outages are temporary (75), the rest fail (1). */
export function exitCodeFor(status: number): number {
  if (status === 400 || status === 413 || status === 422) return EXIT.usage;
  if (status === 503) return EXIT.tempFail;
  return EXIT.failure;
}

/**
 * The one base of every error Gatehouse throws on purpose. It carries what every surface needs
 * to answer it — HTTP status, OAuth/HTTP code, whether the message is safe to show, field
 * details, Retry-After and extra headers — so src/errors/respond.ts renders any of them
 * without knowing the class, and the CLI prints the same message with `exitCode`.
 */
export class GatehouseError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  readonly details: readonly ErrorDetail[];
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly exitCode: number;

  constructor(message: string, options: GatehouseErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status;
    this.code = options.code;
    this.expose = options.expose;
    this.details = options.details ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers ?? {};
    this.exitCode = options.exitCode ?? exitCodeFor(options.status);
  }

  /** The text a caller sees (`error_description`); overridden where `message` is a protocol code. */
  get description(): string {
    return this.message;
  }
}

/** The input is malformed: 400 `invalid_request`, with the fields at fault in `details`. */
export class InvalidRequestError extends GatehouseError {
  constructor(message: string, details: readonly ErrorDetail[] = []) {
    super(message, { status: 400, code: 'invalid_request', expose: true, details });
  }
}

/** No such object: 404 `not_found`. */
export class NotFoundError extends GatehouseError {
  constructor(message: string) {
    super(message, { status: 404, code: 'not_found', expose: true });
  }
}

/** Clashes with an existing object (a unique key): 409 `conflict`; `field` names the key when known. */
export class ConflictError extends GatehouseError {
  constructor(message: string, field?: string) {
    super(message, { status: 409, code: 'conflict', expose: true, details: field === undefined ? [] : [{ path: field, message }] });
  }
}
