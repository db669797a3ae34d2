/// <reference lib="dom" />
import { refresh, stored, type AccountSettings } from './auth.ts';

/** An account API answer that is not 2xx: its status, error code, message and field details. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ReadonlyArray<{ path: string; message: string }>;
  constructor(status: number, code: string, message: string, details: ReadonlyArray<{ path: string; message: string }> = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
  /** The API wants a recent sign-in before this change (RFC 9470). */
  get needsSignInAgain(): boolean {
    return this.code === 'insufficient_user_authentication';
  }
}

/** The page reaches Gatehouse only through the account API, with its own access token. */
export function accountApi(settings: AccountSettings) {
  async function send(method: string, path: string, body: unknown, token: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(`${settings.api}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response = await send(method, path, body, stored()?.accessToken);
    // An expired access token: one refresh, one retry.
    if (response.status === 401 && !(response.headers.get('www-authenticate') ?? '').includes('insufficient_user_authentication')) {
      const renewed = await refresh(settings);
      if (renewed !== undefined) response = await send(method, path, body, renewed.accessToken);
    }
    if (response.status === 204) return undefined as T;
    const document = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      const details = Array.isArray(document.details) ? (document.details as Array<{ path: string; message: string }>) : [];
      const message = typeof document.error_description === 'string' ? document.error_description : String(document.error ?? response.status);
      throw new ApiError(response.status, String(document.error ?? ''), message, details);
    }
    return document as T;
  }

  return {
    get: <T>(path: string) => call<T>('GET', path),
    post: <T>(path: string, body?: unknown) => call<T>('POST', path, body),
    patch: <T>(path: string, body: unknown) => call<T>('PATCH', path, body),
    delete: <T = void>(path: string) => call<T>('DELETE', path),
  };
}

export type AccountApi = ReturnType<typeof accountApi>;
