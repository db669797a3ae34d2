/// <reference lib="dom" />
/**
 * The account page signs users in as any public client would: authorization code + PKCE at
 * the hosted pages, tokens from /token, sign-out at end_session. Tokens live in
 * sessionStorage (this tab only). For changes to how the user signs in, the API asks for a
 * recent sign-in (RFC 9470); the page then signs in again with max_age=0 and comes back to
 * where it was.
 */

export interface AccountSettings {
  readonly clientId: string;
  readonly accountUrl: string;
  readonly authorize: string;
  readonly token: string;
  readonly endSession: string;
  readonly api: string;
  readonly assets: string;
}

export interface Tokens {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly idToken: string | undefined;
}

const TOKENS = 'gatehouse.account.tokens';
const PENDING = 'gatehouse.account.pending';
const SCOPE = 'openid profile email';

export function settingsFrom(body: HTMLElement): AccountSettings {
  const read = (name: string) => body.dataset[name] ?? '';
  return {
    clientId: read('clientId'),
    accountUrl: read('account'),
    authorize: read('authorize'),
    token: read('token'),
    endSession: read('endSession'),
    api: read('api'),
    assets: read('assets'),
  };
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const randomString = () => base64url(crypto.getRandomValues(new Uint8Array(32)));

/** Off to the hosted sign-in pages; `again` asks for a fresh sign-in even within a session. */
export async function beginSignIn(settings: AccountSettings, options: { again?: boolean; locale?: string } = {}): Promise<void> {
  const verifier = randomString();
  const state = randomString();
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
  const url = new URL(settings.authorize, location.origin);
  const parameters: Record<string, string> = {
    client_id: settings.clientId,
    response_type: 'code',
    redirect_uri: settings.accountUrl,
    scope: SCOPE,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  };
  if (options.again === true) parameters.max_age = '0';
  if (options.locale !== undefined) parameters.ui_locales = options.locale;
  url.search = new URLSearchParams(parameters).toString();
  location.assign(url.toString());
}

export class SignInError extends Error {}

async function tokenRequest(settings: AccountSettings, parameters: Record<string, string>): Promise<Tokens> {
  const response = await fetch(settings.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({ client_id: settings.clientId, ...parameters }),
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
  return tokens;
}

/** Finishes a sign-in when the page is the redirect back from the hosted pages, and returns to the section the user was in. */
export async function completeSignIn(settings: AccountSettings): Promise<Tokens | undefined> {
  const query = new URLSearchParams(location.search);
  if (!query.has('code') && !query.has('error')) return undefined;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as { verifier: string; state: string; hash: string } | null;
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', location.pathname + (pending?.hash ?? location.hash));
  if (query.has('error')) throw new SignInError(query.get('error_description') ?? query.get('error') ?? 'error');
  if (pending === null || query.get('state') !== pending.state) throw new SignInError('state mismatch');
  return tokenRequest(settings, { grant_type: 'authorization_code', code: query.get('code') ?? '', redirect_uri: settings.accountUrl, code_verifier: pending.verifier });
}

export function stored(): Tokens | undefined {
  const raw = sessionStorage.getItem(TOKENS);
  return raw === null ? undefined : (JSON.parse(raw) as Tokens);
}

export function forget(): void {
  sessionStorage.removeItem(TOKENS);
}

/** A new access token with the refresh token; undefined when there is none or it was refused. */
export async function refresh(settings: AccountSettings): Promise<Tokens | undefined> {
  const current = stored();
  if (current?.refreshToken === undefined) return undefined;
  try {
    return await tokenRequest(settings, { grant_type: 'refresh_token', refresh_token: current.refreshToken });
  } catch {
    forget();
    return undefined;
  }
}

export function signOut(settings: AccountSettings): void {
  const current = stored();
  forget();
  const url = new URL(settings.endSession, location.origin);
  const parameters: Record<string, string> = { client_id: settings.clientId, post_logout_redirect_uri: settings.accountUrl };
  if (current?.idToken !== undefined) parameters.id_token_hint = current.idToken;
  url.search = new URLSearchParams(parameters).toString();
  location.assign(url.toString());
}
