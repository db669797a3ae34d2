import { ZodError, type core } from 'zod';
import { PROBLEMS, problemText, type Problem, type ProblemCode } from './problems.ts';
import { fieldProblem, GatehouseError, InvalidRequestError, type ErrorDetail } from './gatehouse-error.ts';
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

const TYPES: Readonly<Record<string, ProblemCode>> = { boolean: 'not_boolean', number: 'not_number', int: 'not_integer', bigint: 'not_integer', string: 'not_text', array: 'not_list', tuple: 'not_list', object: 'not_object', record: 'not_object' };
const FORMATS: Readonly<Record<string, ProblemCode>> = { url: 'not_url', email: 'not_email', datetime: 'not_datetime' };

/** Whether an invalid_type issue is about a missing value: its input (an error map sees it), else zod's English, which a finished issue keeps instead. */
const missing = (issue: core.$ZodIssueInvalidType) => ('input' in issue ? issue.input === undefined : / received undefined$/.test(issue.message));

/**
 * The problem a zod issue describes. Zod's own checks are named by the issue's shape (its kind,
 * bounds, expected type), never by their wording; a refinement names its problem in `params`
 * (`says(code)`, src/errors/problems.ts). What neither names is `invalid`.
 */
export function issueProblem(issue: core.$ZodIssue): Problem {
  switch (issue.code) {
    case 'invalid_type':
      if (missing(issue)) return { code: 'required' };
      return { code: TYPES[issue.expected] ?? 'invalid' };
    case 'too_small': {
      const min = Number(issue.minimum) + (issue.inclusive === false && issue.origin !== 'string' ? 1 : 0);
      if (issue.origin === 'string') return min === 1 ? { code: 'empty' } : { code: 'too_short', params: { min } };
      if (issue.origin === 'array' || issue.origin === 'set') return { code: 'too_few', params: { min } };
      return { code: 'too_small', params: { min } };
    }
    case 'too_big': {
      const max = Number(issue.maximum) - (issue.inclusive === false && issue.origin !== 'string' ? 1 : 0);
      if (issue.origin === 'string') return { code: 'too_long', params: { max } };
      if (issue.origin === 'array' || issue.origin === 'set') return { code: 'too_many', params: { max } };
      return { code: 'too_big', params: { max } };
    }
    case 'invalid_value':
      return { code: 'one_of', params: { values: issue.values.map(String).join(', ') } };
    case 'invalid_format':
      return { code: FORMATS[issue.format] ?? 'bad_format' };
    case 'custom': {
      const { code, ...values } = (issue.params ?? {}) as { code?: ProblemCode } & Record<string, string | number>;
      if (code === undefined || !(code in PROBLEMS)) return { code: 'invalid' };
      return Object.keys(values).length === 0 ? { code } : { code, params: values };
    }
    default:
      return { code: 'invalid' };
  }
}

/**
 * An error map for a parse whose messages are shown as they are (the configuration's): our text
 * for zod's own checks; a schema's own message still wins (zod asks the schema's map first).
 */
export const problemErrorMap = (issue: core.$ZodRawIssue): string => {
  const { code, params } = issueProblem(issue as core.$ZodIssue);
  return problemText(code, params);
};

/** One detail per zod issue, its message made from its problem's code (zod's own English never reaches a caller). */
export function zodDetails(error: ZodError): ErrorDetail[] {
  return error.issues.flatMap((issue): ErrorDetail[] => {
    const path = issue.path.map(String);
    // A strict object's unknown members: one detail each, named by its own path.
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => fieldProblem([...path, key].join('.'), 'unknown_field'));
    const { code, params } = issueProblem(issue);
    return [fieldProblem(path.join('.'), code, params)];
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
