import * as client from 'openid-client';

export interface TokenSourceOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The API the tokens are for (its identifier); the client's default API when omitted. */
  readonly resource?: string | undefined;
  readonly scope?: string | undefined;
  /** Fetch a new token this many seconds before the cached one expires. */
  readonly refreshBeforeSeconds?: number;
  /** Clock seam (milliseconds), for tests. */
  readonly now?: () => number;
  /** Only for a local Gatehouse over plain HTTP. */
  readonly allowInsecureHttp?: boolean;
}

export interface TokenSource {
  /** A valid access token: the cached one until shortly before `exp`, then a new one. */
  token(): Promise<string>;
  /** fetch() with `Authorization: Bearer <token>`. */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  /** How many tokens were requested from Gatehouse (for tests and metrics). */
  readonly requests: number;
}

/**
 * The client_credentials pattern: one service calling another with its own identity. Tokens
 * are cached until shortly before they expire, so the token endpoint sees one request per
 * token lifetime, not one per call; concurrent callers share one in-flight request.
 */
export function tokenSource(options: TokenSourceOptions): TokenSource {
  const now = options.now ?? Date.now;
  const early = (options.refreshBeforeSeconds ?? 30) * 1000;
  let config: Promise<client.Configuration> | undefined;
  let cached: { value: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;
  let requests = 0;

  const configuration = () =>
    (config ??= client.discovery(new URL(options.issuer), options.clientId, options.clientSecret, undefined, options.allowInsecureHttp ? { execute: [client.allowInsecureRequests] } : undefined).catch((error: unknown) => {
      config = undefined;
      throw error;
    }));

  async function fetchToken(): Promise<string> {
    const parameters: Record<string, string> = {};
    if (options.resource !== undefined) parameters.resource = options.resource;
    if (options.scope !== undefined) parameters.scope = options.scope;
    requests += 1;
    const tokens = await client.clientCredentialsGrant(await configuration(), parameters);
    cached = { value: tokens.access_token, expiresAt: now() + (tokens.expires_in ?? 60) * 1000 };
    return tokens.access_token;
  }

  async function token(): Promise<string> {
    if (cached !== undefined && now() < cached.expiresAt - early) return cached.value;
    pending ??= fetchToken().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  return {
    token,
    async fetch(url, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${await token()}`);
      return fetch(url, { ...init, headers });
    },
    get requests() {
      return requests;
    },
  };
}
