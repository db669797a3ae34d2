import { ConflictError, GatehouseError, InvalidRequestError, NotFoundError, type ErrorDetail } from '../errors/gatehouse-error.ts';

export type IssueDetail = ErrorDetail;
export { zodDetails } from '../errors/normalize.ts';

const CODES = { 400: 'invalid_request', 404: 'not_found', 409: 'conflict' } as const;

/**
 * What an operator did wrong, as the admin API and the CLI both report it: a status (400, 404,
 * 409) and a message safe to show. Domain errors (conflicts, account errors, zod failures) need
 * no translation into this: every one extends GatehouseError and src/errors/respond.ts renders it.
 */
export class OperationError extends GatehouseError {
  constructor(status: 400 | 404 | 409, message: string, details: readonly IssueDetail[] = []) {
    super(message, { status, code: CODES[status], expose: true, details });
  }
}

export const notFound = (what: string, id: string) => new NotFoundError(`${what} ${id} does not exist`);
export const invalid = (path: string, message: string) => new InvalidRequestError(`${path}: ${message}`, [{ path, message }]);
export { ConflictError };
