/// <reference lib="dom" />
/**
 * The console signs operators in as any public client would: authorization code + PKCE at the
 * hosted pages, tokens from /token, refresh with the refresh token, sign-out at end_session.
 * Tokens live in sessionStorage (this tab only).
 */

export interface ConsoleSettings {
  readonly clientId: string;
  readonly consoleUrl: string;
  readonly authorize: string;
  readonly token: string;
  readonly revocation: string;
  readonly endSession: string;
  readonly admin: string;
  readonly resource: string;
  readonly assets: string;
  /** Seconds without activity before the console signs out (GATEHOUSE_CONSOLE_IDLE_TIMEOUT). */
  readonly idleSeconds: number;
}

export interface Tokens {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly idToken: string | undefined;
}

const TOKENS = 'gatehouse.console.tokens';
const PENDING = 'gatehouse.console.pending';
/** Set when the console ended an idle session: the next sign-in asks for credentials again. */
const REAUTHENTICATE = 'gatehouse.console.reauthenticate';
export const SCOPE = 'openid admin';

export function settingsFrom(body: HTMLElement): ConsoleSettings {
  const data = body.dataset;
  const read = (name: string) => data[name] ?? '';
  return {
    clientId: read('clientId'),
    consoleUrl: read('console'),
    authorize: read('authorize'),
    token: read('token'),
    revocation: read('revocation'),
    endSession: read('endSession'),
    admin: read('admin'),
    resource: read('resource'),
    assets: read('assets'),
    idleSeconds: Number(read('idle')) || 900,
  };
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function beginSignIn(settings: ConsoleSettings): Promise<void> {
  const verifier = randomString();
  const state = randomString();
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const url = new URL(settings.authorize, location.origin);
  url.search = new URLSearchParams({
    client_id: settings.clientId,
    response_type: 'code',
    redirect_uri: settings.consoleUrl,
    scope: SCOPE,
    resource: settings.resource,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    ...(sessionStorage.getItem(REAUTHENTICATE) === null ? {} : { prompt: 'login' }),
  }).toString();
  location.assign(url.toString());
}

export class SignInError extends Error {}

async function tokenRequest(settings: ConsoleSettings, parameters: Record<string, string>): Promise<Tokens> {
  const response = await fetch(settings.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({ client_id: settings.clientId, resource: settings.resource, ...parameters }),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof body.access_token !== 'string') {
    throw new SignInError(typeof body.error_description === 'string' ? body.error_description : String(body.error ?? response.status));
  }
  const tokens: Tokens = {
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
    idToken: typeof body.id_token === 'string' ? body.id_token : stored()?.idToken,
  };
  sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
  sessionStorage.removeItem(REAUTHENTICATE);
  return tokens;
}

/** Finishes a sign-in when the page is the redirect back from the hosted pages; undefined otherwise. */
export async function completeSignIn(settings: ConsoleSettings): Promise<Tokens | undefined> {
  const query = new URLSearchParams(location.search);
  if (!query.has('code') && !query.has('error')) return undefined;
  history.replaceState(null, '', location.pathname + location.hash);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as { verifier: string; state: string } | null;
  sessionStorage.removeItem(PENDING);
  if (query.has('error')) throw new SignInError(query.get('error_description') ?? query.get('error') ?? 'error');
  if (pending === null || query.get('state') !== pending.state) throw new SignInError('state mismatch');
  return tokenRequest(settings, { grant_type: 'authorization_code', code: query.get('code') ?? '', redirect_uri: settings.consoleUrl, code_verifier: pending.verifier });
}

export function stored(): Tokens | undefined {
  const raw = sessionStorage.getItem(TOKENS);
  return raw === null ? undefined : (JSON.parse(raw) as Tokens);
}

/** A new access token with the refresh token; undefined when there is none or it was refused. */
export async function refresh(settings: ConsoleSettings): Promise<Tokens | undefined> {
  const current = stored();
  if (current?.refreshToken === undefined) return undefined;
  try {
    return await tokenRequest(settings, { grant_type: 'refresh_token', refresh_token: current.refreshToken });
  } catch {
    sessionStorage.removeItem(TOKENS);
    return undefined;
  }
}

/**
 * Ends the console's session without leaving the page (idle timeout): the refresh token is
 * revoked at the provider, the tokens are forgotten, and the next sign-in asks for credentials
 * again (prompt=login) even while the provider's session lasts.
 */
export async function endIdleSession(settings: ConsoleSettings): Promise<void> {
  const current = stored();
  sessionStorage.removeItem(TOKENS);
  sessionStorage.setItem(REAUTHENTICATE, '1');
  if (current?.refreshToken === undefined) return;
  await fetch(settings.revocation, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: settings.clientId, token: current.refreshToken, token_type_hint: 'refresh_token' }).toString(),
  }).catch(() => undefined);
}

export function signOut(settings: ConsoleSettings): void {
  const current = stored();
  sessionStorage.removeItem(TOKENS);
  const url = new URL(settings.endSession, location.origin);
  const parameters: Record<string, string> = { client_id: settings.clientId, post_logout_redirect_uri: settings.consoleUrl };
  if (current?.idToken !== undefined) parameters.id_token_hint = current.idToken;
  url.search = new URLSearchParams(parameters).toString();
  location.assign(url.toString());
}

/** The `sub` / `preferred_username` of the ID token, for display only (the server decides access). */
export function whoAmI(): string {
  const idToken = stored()?.idToken;
  if (idToken === undefined) return '';
  try {
    const payload = JSON.parse(atob(idToken.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    return String(payload.preferred_username ?? payload.sub ?? '');
  } catch {
    return '';
  }
}
