import { ConflictError, GatehouseError, invalid, NotFoundError, type ErrorDetail } from '../errors/gatehouse-error.ts';
import { problemText, type ProblemCode, type ProblemParams } from '../errors/problems.ts';

export type IssueDetail = ErrorDetail;
export { zodDetails } from '../errors/normalize.ts';

const CODES = { 400: 'invalid_request', 404: 'not_found', 409: 'conflict' } as const;

/**
 * What an operator did wrong, as the admin API and the CLI both report it: a status (400, 404,
 * 409) and a problem code (src/errors/problems.ts), whose English text is the message. Domain
 * errors (conflicts, account errors, zod failures) need no translation into this: every one
 * extends GatehouseError and src/errors/respond.ts renders it.
 */
export class OperationError extends GatehouseError {
  constructor(status: 400 | 404 | 409, code: ProblemCode, params?: ProblemParams) {
    super(problemText(code, params), { status, code: CODES[status], expose: true, problem: { code, params } });
  }
}

/** What a path names does not exist: `notFound('user_not_found', id)`. */
export const notFound = (code: ProblemCode, id: string) => new NotFoundError(code, { id });
export { ConflictError, invalid };
