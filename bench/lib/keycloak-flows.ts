import { formsOf } from '../../test/helpers/browserless.ts';
import { REDIRECT_URI, SIGN_IN_SCOPE, type BenchUser } from './fixture.ts';
import type { TokenResponse } from './flows.ts';
import { BenchAgent, send, type PageAgent } from './http-agent.ts';
import { REALM, type KeycloakClient } from './keycloak.ts';

/** Keycloak's OpenID Connect endpoints of the bench realm, as paths. */
export const KEYCLOAK_PATHS = {
  authorization: `/realms/${REALM}/protocol/openid-connect/auth`,
  token: `/realms/${REALM}/protocol/openid-connect/token`,
  introspection: `/realms/${REALM}/protocol/openid-connect/token/introspect`,
  userinfo: `/realms/${REALM}/protocol/openid-connect/userinfo`,
} as const;

export function keycloakBasic(client: KeycloakClient): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`;
}

function authorizationUrl(base: string, client: KeycloakClient): string {
  const query = new URLSearchParams({ client_id: client.client_id, response_type: 'code', scope: SIGN_IN_SCOPE, redirect_uri: REDIRECT_URI, state: Math.random().toString(36).slice(2) });
  return `${base}${KEYCLOAK_PATHS.authorization}?${query}`;
}

export async function keycloakToken(base: string, client: KeycloakClient, form: Record<string, string>): Promise<TokenResponse> {
  const response = await send(`${base}${KEYCLOAK_PATHS.token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: keycloakBasic(client) },
    body: new URLSearchParams(form).toString(),
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`Keycloak token (${form.grant_type}) → ${response.status} ${body}`);
  return JSON.parse(body) as TokenResponse;
}

function codeFrom(location: string | null): string {
  const code = location === null ? null : new URL(location).searchParams.get('code');
  if (code === null) throw new Error(`Keycloak did not redirect back with a code: ${location}`);
  return code;
}

/** A complete sign-in on Keycloak's hosted login page: /auth → page → POST → code → token. */
export async function keycloakSignIn(base: string, client: KeycloakClient, user: BenchUser, agent: PageAgent = new BenchAgent()): Promise<TokenResponse> {
  const page = await agent.request(authorizationUrl(base, client));
  const form = formsOf(await page.text()).find((candidate) => candidate.action.includes('/login-actions/authenticate'));
  if (form === undefined) throw new Error(`no Keycloak login form (${page.status})`);
  const posted = await agent.postForm(form.action, { ...form.fields, username: user.username, password: user.password });
  const location = posted.headers.get('location');
  if (posted.status !== 302 || location === null || !location.startsWith(REDIRECT_URI)) {
    throw new Error(`Keycloak sign-in did not come back to the client: ${posted.status} ${location ?? ''}`);
  }
  return keycloakToken(base, client, { grant_type: 'authorization_code', code: codeFrom(location), redirect_uri: REDIRECT_URI });
}

/**
 * Refresh tokens for the rotation scenario, as bench/lib/flows.ts mints Gatehouse's: a few
 * agents sign in once, then each /auth with the session cookie answers with a code at once.
 * Keycloak tracks reuse per refresh token, so tokens of one session rotate independently.
 */
export async function keycloakRefreshTokens(base: string, client: KeycloakClient, user: BenchUser, count: number, concurrency = 8): Promise<string[]> {
  const tokens: string[] = [];
  const worker = async () => {
    const agent = new BenchAgent();
    await keycloakSignIn(base, client, user, agent);
    while (tokens.length < count) {
      const response = await agent.request(authorizationUrl(base, client));
      const issued = await keycloakToken(base, client, { grant_type: 'authorization_code', code: codeFrom(response.headers.get('location')), redirect_uri: REDIRECT_URI });
      if (issued.refresh_token === undefined) throw new Error('no refresh token in Keycloak code exchange');
      tokens.push(issued.refresh_token);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tokens.slice(0, count);
}
