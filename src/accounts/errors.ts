/**
 * Typed errors of the account layer. Each carries the HTTP status it maps to and whether its
 * message may be shown to the caller; the one place that turns errors into responses (coming
 * with the hosted pages and the admin API) reads these two fields.
 */
export abstract class AccountError extends Error {
  abstract readonly status: number;
  abstract readonly expose: boolean;
}

/** The hashing pool is saturated: answer 503 with `Retry-After: retryAfterSeconds`. */
export class HashQueueFullError extends AccountError {
  readonly status = 503;
  readonly expose = false;
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super(`password hashing queue is full; retry after ${retryAfterSeconds} s`);
    this.name = 'HashQueueFullError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The hashing pool was closed (shutdown) or a worker died while running a job. */
export class HashPoolError extends AccountError {
  readonly status = 503;
  readonly expose = false;

  constructor(message: string) {
    super(message);
    this.name = 'HashPoolError';
  }
}

/** A new password breaks the policy; the message is meant for the person choosing it. */
export class PasswordPolicyError extends AccountError {
  readonly status = 400;
  readonly expose = true;
  readonly rule: 'too_short' | 'too_long';

  constructor(rule: 'too_short' | 'too_long', message: string) {
    super(message);
    this.name = 'PasswordPolicyError';
    this.rule = rule;
  }
}

/** A user attribute is malformed; `field` names it. */
export class InvalidUserError extends AccountError {
  readonly status = 400;
  readonly expose = true;
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'InvalidUserError';
    this.field = field;
  }
}

/** The username or email is already taken (compared case-insensitively). */
export class DuplicateUserError extends AccountError {
  readonly status = 409;
  readonly expose = true;
  readonly field: 'username' | 'email';

  constructor(field: 'username' | 'email') {
    super(`${field}: already in use`);
    this.name = 'DuplicateUserError';
    this.field = field;
  }
}

export class UserNotFoundError extends AccountError {
  readonly status = 404;
  readonly expose = true;

  constructor(id: string) {
    super(`user ${id} does not exist`);
    this.name = 'UserNotFoundError';
  }
}
