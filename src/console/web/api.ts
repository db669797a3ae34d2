/// <reference lib="dom" />
import { refresh, stored, type ConsoleSettings } from './auth.ts';

/** An admin API answer that is not 2xx: its status and the error document's message and field details. */
export class ApiError extends Error {
  readonly status: number;
  readonly details: ReadonlyArray<{ path: string; message: string }>;
  constructor(status: number, message: string, details: ReadonlyArray<{ path: string; message: string }> = []) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

/** The console reaches Gatehouse only through the admin API, with its own access token. */
export function adminApi(settings: ConsoleSettings) {
  async function send(method: string, path: string, body: unknown, token: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(`${settings.admin}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }

  async function exchange(method: string, path: string, body?: unknown): Promise<{ document: unknown; response: Response }> {
    let response = await send(method, path, body, stored()?.accessToken);
    // An expired access token: one refresh, one retry.
    if (response.status === 401) {
      const renewed = await refresh(settings);
      if (renewed !== undefined) response = await send(method, path, body, renewed.accessToken);
    }
    if (response.status === 204) return { document: undefined, response };
    const document = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      const details = Array.isArray(document.details) ? (document.details as Array<{ path: string; message: string }>) : [];
      const message = typeof document.error_description === 'string' ? document.error_description : typeof document.message === 'string' ? document.message : String(document.error ?? response.status);
      throw new ApiError(response.status, message, details);
    }
    return { document, response };
  }

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await exchange(method, path, body)).document as T;
  }

  /** A list route's page and its total (X-Total-Count). */
  async function list<T>(path: string): Promise<{ items: T[]; total: number }> {
    const { document, response } = await exchange('GET', path);
    const items = document as T[];
    const total = Number(response.headers.get('X-Total-Count') ?? items.length);
    return { items, total };
  }

  return {
    get: <T>(path: string) => call<T>('GET', path),
    list,
    put: <T>(path: string, body: unknown) => call<T>('PUT', path, body),
    post: <T>(path: string, body?: unknown) => call<T>('POST', path, body ?? {}),
    patch: <T>(path: string, body: unknown) => call<T>('PATCH', path, body),
    delete: (path: string) => call<void>('DELETE', path),
  };
}

export type AdminApi = ReturnType<typeof adminApi>;
