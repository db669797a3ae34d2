import type { RunningGatehouse } from '../../src/server.ts';
import { clientOperations } from '../../src/operations/clients.ts';
import { clientSecretBasic } from './client-auth.ts';

export interface TokenResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** POST /token with client_secret_basic. */
export async function clientCredentials(url: string, clientId: string, secret: string, params: Record<string, string> = {}): Promise<TokenResponse> {
  const response = await fetch(`${url}/token`, {
    method: 'POST',
    headers: {
      authorization: clientSecretBasic(clientId, secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** An admin client created through the services, and a fresh admin token from it. */
export async function adminClient(gatehouse: RunningGatehouse, name = 'ops'): Promise<{ clientId: string; secret: string; token(scope?: string): Promise<string> }> {
  const created = await clientOperations(gatehouse.services).create({ actor: { type: 'system', id: 'test' } }, { name, admin: true });
  const clientId = created.client.clientId;
  const secret = created.secret!;
  return {
    clientId,
    secret,
    async token(scope = 'admin') {
      const response = await clientCredentials(gatehouse.url, clientId, secret, scope === '' ? {} : { scope });
      if (response.status !== 200) throw new Error(`no admin token: ${JSON.stringify(response.body)}`);
      return response.body.access_token as string;
    },
  };
}

export interface ApiResponse {
  readonly status: number;
  readonly body: any;
  readonly headers: Headers;
}

/** Calls the admin API with a bearer token and a JSON body. */
export async function callAdmin(url: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${url}/admin/api/v1${path}`, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
}
