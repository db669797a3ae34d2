import { ZodError, type core } from 'zod';
import { problemOf, type ProblemCode, type ProblemParams } from './problems.ts';
import { GatehouseError, InvalidRequestError, type ErrorDetail } from './gatehouse-error.ts';
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

const TYPES: Readonly<Record<string, ProblemCode>> = { boolean: 'not_boolean', number: 'not_number', int: 'not_integer', string: 'not_text', array: 'not_list', object: 'not_object' };
const FORMATS: Readonly<Record<string, ProblemCode>> = { url: 'not_url', email: 'not_email', datetime: 'not_datetime' };

/** The problem a zod issue describes, from its structure (its message may be zod's own English or a module's own words). */
function issueProblem(issue: core.$ZodIssue): { code: ProblemCode; params?: ProblemParams } | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.message.endsWith('received undefined')) return { code: 'required' };
      return TYPES[issue.expected] === undefined ? undefined : { code: TYPES[issue.expected]! };
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') return min === 1 ? { code: 'empty' } : { code: 'too_short', params: { min } };
      if (issue.origin === 'array' || issue.origin === 'set') return { code: 'too_few', params: { min } };
      return { code: 'too_small', params: { min } };
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return { code: 'too_long', params: { max } };
      if (issue.origin === 'array' || issue.origin === 'set') return { code: 'too_many', params: { max } };
      return { code: 'too_big', params: { max } };
    }
    case 'invalid_value':
      return { code: 'one_of', params: { values: issue.values.map(String).join(', ') } };
    case 'invalid_format':
      // A pattern's own message says more (`no spaces`): the catalogue's entry for it, else the format.
      return issue.format === 'regex' ? (problemOf(issue.message) ?? { code: 'bad_format' }) : { code: FORMATS[issue.format] ?? 'bad_format' };
    case 'custom': {
      // A refinement names its problem in `params` ({code, ...values}) or says a catalogue text.
      const params = (issue.params ?? {}) as { code?: ProblemCode } & Record<string, string | number>;
      if (params.code === undefined) return problemOf(issue.message);
      const { code, ...values } = params;
      return { code, params: values };
    }
    default:
      return undefined;
  }
}

export function zodDetails(error: ZodError): ErrorDetail[] {
  return error.issues.flatMap((issue): ErrorDetail[] => {
    const path = issue.path.map(String);
    // A strict object's unknown members: one detail each, named by its own path.
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...path, key].join('.'), message: 'unknown field', code: 'unknown_field' }));
    // A module's own words from the catalogue name the problem best (`unknown event type`); else the issue's shape does.
    const problem = problemOf(issue.message) ?? issueProblem(issue);
    return [{ path: path.join('.'), message: issue.message, ...problem }];
  });
}

/** A detail with its problem's code and values (src/errors/problems.ts), when its text is one the catalogue knows. */
export function withProblem(detail: ErrorDetail): ErrorDetail {
  if (detail.code !== undefined) return detail;
  const problem = problemOf(detail.message);
  return problem === undefined ? detail : { ...detail, ...problem };
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
