import { problemText, type Problem, type ProblemCode, type ProblemParams } from './problems.ts';

/** One problem with one field of the input, e.g. `{ path: 'name', message: 'must be at most 200 characters', code: 'too_long', params: {max: 200} }`. */
export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
  /** The problem's stable code (src/errors/problems.ts); `message` is its English text. */
  readonly code?: ProblemCode;
  /** The values the problem's text names (`{max: 200}`). */
  readonly params?: ProblemParams;
}

/** A field's problem, named by its code: the English message comes from the catalogue. */
export function fieldProblem(path: string, code: ProblemCode, params?: ProblemParams): ErrorDetail {
  return { path, message: problemText(code, params), code, ...(params === undefined ? {} : { params }) };
}

export interface GatehouseErrorOptions {
  /** HTTP status the error answers with. */
  readonly status: number;
  /** OAuth / HTTP error code (`invalid_request`, `not_found`, `conflict`, `temporarily_unavailable`, ...). */
  readonly code: string;
  /** Whether the message may be shown to the caller; unexposed errors answer a generic text. */
  readonly expose: boolean;
  readonly details?: readonly ErrorDetail[] | undefined;
  /** The error as a whole as a stable code and values (a 404, a 409 without a field): answered as `code`/`params`. */
  readonly problem?: Problem | undefined;
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
  readonly problem: Problem | undefined;
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
    this.problem = options.problem;
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
  constructor(message: string, details: readonly ErrorDetail[] = [], problem?: Problem) {
    super(message, { status: 400, code: 'invalid_request', expose: true, details, problem });
  }
}

/** One field at fault, named by its problem's code: `invalid('subject', 'subject_or_ip')`. */
export function invalid(path: string, code: ProblemCode, params?: ProblemParams): InvalidRequestError {
  const detail = fieldProblem(path, code, params);
  return new InvalidRequestError(`${path || 'body'}: ${detail.message}`, [detail]);
}

/** No such object: 404 `not_found`, e.g. `new NotFoundError('user_not_found', { id })`. */
export class NotFoundError extends GatehouseError {
  constructor(code: ProblemCode, params?: ProblemParams) {
    super(problemText(code, params), { status: 404, code: 'not_found', expose: true, problem: { code, params } });
  }
}

/** Clashes with an existing object or the state of things: 409 `conflict`; `field` names the field at fault when there is one. */
export class ConflictError extends GatehouseError {
  constructor(code: ProblemCode, params?: ProblemParams, field?: string) {
    super(problemText(code, params), {
      status: 409,
      code: 'conflict',
      expose: true,
      problem: { code, params },
      details: field === undefined ? [] : [fieldProblem(field, code, params)],
    });
  }
}
