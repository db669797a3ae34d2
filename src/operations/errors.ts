import { ZodError } from 'zod';
import { AccountError } from '../accounts/errors.ts';
import { ApiConflictError } from '../apis/registry.ts';
import { ClientConflictError } from '../clients/repository.ts';
import { LabelConflictError } from '../roles/directory.ts';

export interface IssueDetail {
  readonly path: string;
  readonly message: string;
}

/**
 * What an operator did wrong, as the admin API and the CLI both report it: a status (400, 404,
 * 409) and a message safe to show. Anything else is Gatehouse's fault.
 */
export class OperationError extends Error {
  readonly status: 400 | 404 | 409;
  readonly details: readonly IssueDetail[];

  constructor(status: 400 | 404 | 409, message: string, details: readonly IssueDetail[] = []) {
    super(message);
    this.name = 'OperationError';
    this.status = status;
    this.details = details;
  }
}

export const notFound = (what: string, id: string) => new OperationError(404, `${what} ${id} does not exist`);
export const invalid = (path: string, message: string) => new OperationError(400, `${path}: ${message}`, [{ path, message }]);

export function zodDetails(error: ZodError): IssueDetail[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** Maps the services' own errors onto OperationError; anything unknown passes through. */
export function asOperationError(error: unknown): unknown {
  if (error instanceof OperationError) return error;
  if (error instanceof ZodError) {
    const details = zodDetails(error);
    return new OperationError(400, details.map((d) => `${d.path || 'body'}: ${d.message}`).join('; '), details);
  }
  if (error instanceof ApiConflictError || error instanceof ClientConflictError || error instanceof LabelConflictError) {
    return new OperationError(409, error.message);
  }
  if (error instanceof AccountError && error.expose && (error.status === 400 || error.status === 404 || error.status === 409)) {
    const field = 'field' in error && typeof error.field === 'string' ? error.field : undefined;
    return new OperationError(error.status, error.message, field === undefined ? [] : [{ path: field, message: error.message }]);
  }
  return error;
}
