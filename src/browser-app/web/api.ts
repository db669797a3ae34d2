/// <reference lib="dom" />
/** JSON over fetch with the app's own access token: one refresh and one retry on an expired token. */

export interface FieldDetail {
  readonly path: string;
  readonly message: string;
  /** The problem's stable code (the server's src/errors/problems.ts) and the values its text names. */
  readonly code?: string;
  readonly params?: Readonly<Record<string, string | number>>;
}

/** The error as a whole as the server names it: its problem code and the values its text names. */
export interface Problem {
  readonly code: string;
  readonly params?: Readonly<Record<string, string | number>>;
}

/** An API answer that is not 2xx: its status, error code, message, field details and problem. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: readonly FieldDetail[];
  readonly problem: Problem | undefined;
  constructor(status: number, code: string, message: string, details: readonly FieldDetail[] = [], problem?: Problem) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.problem = problem;
  }
  /** The API wants a recent sign-in before this change (RFC 9470). */
  get needsSignInAgain(): boolean {
    return this.code === 'insufficient_user_authentication';
  }
}

export interface JsonApiOptions {
  /** The API's base URL (path prefix). */
  readonly base: string;
  readonly accessToken: () => string | undefined;
  /** A new access token (the app's refresh); undefined when there is none. */
  readonly refresh: () => Promise<{ readonly accessToken: string } | undefined>;
}

export function jsonApi(options: JsonApiOptions) {
  async function send(method: string, path: string, body: unknown, token: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(`${options.base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }

  /** The answer's document (undefined for 204) and the response; an ApiError for anything not 2xx. */
  async function exchange(method: string, path: string, body?: unknown): Promise<{ document: unknown; response: Response }> {
    let response = await send(method, path, body, options.accessToken());
    // An expired access token: one refresh, one retry (a step-up demand is not an expired token).
    if (response.status === 401 && !(response.headers.get('www-authenticate') ?? '').includes('insufficient_user_authentication')) {
      const renewed = await options.refresh();
      if (renewed !== undefined) response = await send(method, path, body, renewed.accessToken);
    }
    if (response.status === 204) return { document: undefined, response };
    const document = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      const details = Array.isArray(document.details) ? (document.details as FieldDetail[]) : [];
      const message = typeof document.error_description === 'string' ? document.error_description : typeof document.message === 'string' ? document.message : String(document.error ?? response.status);
      const problem = typeof document.code === 'string' ? { code: document.code, ...(typeof document.params === 'object' && document.params !== null ? { params: document.params as Problem['params'] } : {}) } : undefined;
      throw new ApiError(response.status, String(document.error ?? ''), message, details, problem);
    }
    return { document, response };
  }

  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => (await exchange(method, path, body)).document as T;
  return { exchange, call };
}
