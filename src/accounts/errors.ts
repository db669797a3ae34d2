import { fieldProblem, GatehouseError } from '../errors/gatehouse-error.ts';
import { problemText, type ProblemCode, type ProblemParams } from '../errors/problems.ts';

/** The hashing pool is saturated: answer 503 with `Retry-After: retryAfterSeconds`. */
export class HashQueueFullError extends GatehouseError {
  constructor(retryAfterSeconds: number) {
    super(`password hashing queue is full; retry after ${retryAfterSeconds} s`, {
      status: 503,
      code: 'temporarily_unavailable',
      expose: false,
      retryAfterSeconds,
    });
  }
}

/**
 * Correct-or-not sign-ins of one key under way hold every place its threshold leaves, and none
 * ended within the wait (docs/ACCOUNTS.md): a retryable refusal, answered like a full hashing
 * queue (503 with Retry-After, the "busy" page) — no failure is counted, nothing is locked.
 */
export class SignInsInFlightError extends HashQueueFullError {
  constructor(retryAfterSeconds: number) {
    super(retryAfterSeconds);
    this.message = `too many sign-ins of one key at once; retry after ${retryAfterSeconds} s`;
  }
}

/** The hashing pool was closed (shutdown) or a worker died while running a job. */
export class HashPoolError extends GatehouseError {
  constructor(message: string) {
    super(message, { status: 503, code: 'temporarily_unavailable', expose: false, retryAfterSeconds: 1 });
  }
}

export type PasswordRule = 'too_short' | 'too_long' | 'digits' | 'lowercase' | 'uppercase' | 'special' | 'not_username' | 'not_email' | 'history';

/** One rule a new password breaks: `limit` is the number it asks for (characters, digits, passwords remembered). */
export interface UnmetPasswordRule {
  readonly rule: PasswordRule;
  readonly limit?: number | undefined;
  /** English, for the admin API and the CLI (from the problem code password_<rule>); pages say it in the reader's language from `rule` and `limit`. */
  readonly message: string;
}

/** A broken rule with its English text, made from its problem code (`password_too_short`). */
export function unmetRule(rule: PasswordRule, limit?: number): UnmetPasswordRule {
  const params = limit === undefined ? undefined : { limit };
  return { rule, ...params, message: problemText(`password_${rule}`, params) };
}

/** A new password breaks the policy; every rule it breaks is listed, each a detail on the `password` field. */
export class PasswordPolicyError extends GatehouseError {
  readonly unmet: readonly UnmetPasswordRule[];

  constructor(unmet: readonly UnmetPasswordRule[]) {
    super(`password: ${unmet.map((one) => one.message).join('; ')}`, {
      status: 400,
      code: 'invalid_request',
      expose: true,
      details: unmet.map((one) => fieldProblem('password', `password_${one.rule}`, one.limit === undefined ? undefined : { limit: one.limit })),
    });
    this.unmet = unmet;
  }

  /** The first rule broken. */
  get rule(): PasswordRule {
    return this.unmet[0]!.rule;
  }
}

/** A user attribute is malformed; `field` names it. */
export class InvalidUserError extends GatehouseError {
  readonly field: string;

  constructor(field: string, code: ProblemCode, params?: ProblemParams) {
    const detail = fieldProblem(field, code, params);
    super(`${field}: ${detail.message}`, { status: 400, code: 'invalid_request', expose: true, details: [detail] });
    this.field = field;
  }
}

/** The username or email is already taken (compared case-insensitively). */
export class DuplicateUserError extends GatehouseError {
  readonly field: 'username' | 'email';

  constructor(field: 'username' | 'email') {
    super(`${field}: ${problemText('already_in_use')}`, { status: 409, code: 'conflict', expose: true, details: [fieldProblem(field, 'already_in_use')] });
    this.field = field;
  }
}

export class UserNotFoundError extends GatehouseError {
  constructor(id: string) {
    super(problemText('user_not_found', { id }), { status: 404, code: 'not_found', expose: true, problem: { code: 'user_not_found', params: { id } } });
  }
}

/** A first password was asked for (Accounts.addPassword) but the user has one: it is changed with the current one. */
export class PasswordAlreadySetError extends GatehouseError {
  constructor(id: string) {
    super(`user ${id} has a password already`, { status: 409, code: 'conflict', expose: true });
  }
}
