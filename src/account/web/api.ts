/// <reference lib="dom" />
import { ApiError, jsonApi } from '../../browser-app/web/api.ts';
import { refresh, stored, type AccountSettings } from './auth.ts';

export { ApiError };

/** The page reaches Gatehouse only through the account API, with its own access token. */
export function accountApi(settings: AccountSettings) {
  const { call } = jsonApi({ base: settings.api, accessToken: () => stored()?.accessToken, refresh: () => refresh(settings) });
  return {
    get: <T>(path: string) => call<T>('GET', path),
    post: <T>(path: string, body?: unknown) => call<T>('POST', path, body),
    patch: <T>(path: string, body: unknown) => call<T>('PATCH', path, body),
    delete: <T = void>(path: string) => call<T>('DELETE', path),
  };
}

export type AccountApi = ReturnType<typeof accountApi>;
