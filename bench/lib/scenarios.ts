import { basicAuth, type Fixture } from './fixture.ts';
import { completeSignIn, mintRefreshTokens, postToken } from './flows.ts';
import { refreshTokenChains, type RequestSpec } from './load.ts';

/**
 * The requests of the token scenarios, built one way for every bench script. Each builder takes
 * the client's Authorization header and the endpoint's path, so a Keycloak side (bench/lib/keycloak.ts
 * paths, its own clients) is asked the very same thing.
 */

export const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const formPost = (path: string, authorization: string, body?: string): RequestSpec => ({
  method: 'POST',
  path,
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
  ...(body === undefined ? {} : { body }),
});

/** Gatehouse's client_credentials request: a token for the client's default API with scope read. */
export const CC_READ = { grant_type: 'client_credentials', scope: 'read' } as const;

export function clientCredentialsRequest(authorization: string, path = '/token', fields: Record<string, string> = CC_READ): RequestSpec {
  return formPost(path, authorization, form(fields));
}

export function introspectionRequest(authorization: string, token: string, path = '/token/introspection'): RequestSpec {
  return formPost(path, authorization, form({ token }));
}

export function userinfoRequest(accessToken: string, path = '/me'): RequestSpec {
  return { method: 'GET', path, headers: { authorization: `Bearer ${accessToken}` } };
}

/** Rotation: each request spends one token of the pool, each answer's successor goes back in (refreshTokenChains). */
export function refreshRequest(authorization: string, pool: string[], path = '/token'): RequestSpec {
  return { ...formPost(path, authorization), ...refreshTokenChains(pool, (token) => form({ grant_type: 'refresh_token', refresh_token: token })) };
}

export const TOKEN_SCENARIOS = ['cc-rs256', 'cc-es256', 'cc-opaque', 'introspect-jwt', 'introspect-opaque', 'userinfo', 'refresh'] as const;
export type TokenScenario = (typeof TOKEN_SCENARIOS)[number];

export interface ScenarioServer {
  readonly url: string;
  readonly fixture: Fixture;
  /** How many refresh tokens to mint for the refresh scenario (the chains' heads). */
  readonly refreshTokens: number;
  /**
   * The library's in-memory reference (bench/reference-server.ts): oidc-provider refuses JWTs at
   * introspection, so introspect-jwt introspects its opaque token there.
   */
  readonly reference?: boolean;
}

/** The request one server gets, again and again, for a scenario; the tokens it needs are minted on that server. */
export async function scenarioRequest(scenario: TokenScenario, server: ScenarioServer): Promise<RequestSpec> {
  const { url, fixture } = server;
  const auth = (which: keyof Fixture['clients']) => basicAuth(fixture.clients[which]);
  switch (scenario) {
    case 'cc-rs256':
      return clientCredentialsRequest(auth('rs256'));
    case 'cc-es256':
      return clientCredentialsRequest(auth('es256'));
    case 'cc-opaque':
      return clientCredentialsRequest(auth('opaque'));
    case 'introspect-jwt':
    case 'introspect-opaque': {
      const which = scenario === 'introspect-jwt' && server.reference !== true ? 'rs256' : 'opaque';
      const { access_token: token } = await postToken(url, fixture.clients[which], CC_READ);
      return introspectionRequest(auth(which), token);
    }
    case 'userinfo':
      return userinfoRequest((await completeSignIn(url, fixture.clients.web, fixture.users[0]!)).access_token);
    case 'refresh':
      return refreshRequest(auth('web'), await mintRefreshTokens(url, fixture.clients.web, fixture.users[0]!, server.refreshTokens));
  }
}
