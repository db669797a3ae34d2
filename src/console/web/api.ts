/// <reference lib="dom" />
import { ApiError, jsonApi } from '../../browser-app/web/api.ts';
import { refresh, stored, type ConsoleSettings } from './auth.ts';

export { ApiError };

/** The console reaches Gatehouse only through the admin API, with its own access token. */
export function adminApi(settings: ConsoleSettings) {
  const { call, exchange } = jsonApi({ base: settings.admin, accessToken: () => stored()?.accessToken, refresh: () => refresh(settings) });

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
