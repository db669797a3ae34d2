/// <reference lib="dom" />
/**
 * A browser app signs in as any public client would: authorization code + PKCE at the hosted
 * pages, tokens from /token, refresh with the refresh token, sign-out at end_session. Tokens
 * live in sessionStorage (this tab only), under the app's own keys.
 */

/** Where the app signs in; `appUrl` is its redirect and post-logout URI. */
export interface PublicClientSettings {
  readonly clientId: string;
  readonly appUrl: string;
  readonly authorize: string;
  readonly token: string;
  readonly endSession: string;
}

/** The settings every app's shell carries (serve.ts): its client, URL, endpoints and assets. */
export function clientSettingsFrom(body: HTMLElement): PublicClientSettings & { readonly assets: string } {
  const read = (name: string) => body.dataset[name] ?? '';
  return { clientId: read('clientId'), appUrl: read('app'), authorize: read('authorize'), token: read('token'), endSession: read('endSession'), assets: read('assets') };
}

export interface Tokens {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly idToken: string | undefined;
}

export interface PublicClientOptions {
  /** Prefix of the sessionStorage keys (`gatehouse.account`). */
  readonly storageKey: string;
  readonly scope: string;
  /** Comes back to the hash route the sign-in started from. */
  readonly returnToHash?: boolean;
  /** Parameters sent with every authorization and token request (`resource`). */
  readonly parameters?: (settings: PublicClientSettings) => Record<string, string>;
  /** Called with every set of tokens the token endpoint issued. */
  readonly onTokens?: (tokens: Tokens) => void;
}

export class SignInError extends Error {}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const randomString = () => base64url(crypto.getRandomValues(new Uint8Array(32)));

/** The claims of an ID token, for display only (the server decides access); empty when unreadable. */
export function idTokenClaims(idToken: string | undefined): Record<string, unknown> {
  if (idToken === undefined) return {};
  try {
    return JSON.parse(atob(idToken.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export function publicClient(options: PublicClientOptions) {
  const TOKENS = `${options.storageKey}.tokens`;
  const PENDING = `${options.storageKey}.pending`;
  const extra = (settings: PublicClientSettings) => options.parameters?.(settings) ?? {};

  function stored(): Tokens | undefined {
    const raw = sessionStorage.getItem(TOKENS);
    return raw === null ? undefined : (JSON.parse(raw) as Tokens);
  }

  function forget(): void {
    sessionStorage.removeItem(TOKENS);
  }

  /** Off to the hosted sign-in pages, with any further authorization parameters. */
  async function beginSignIn(settings: PublicClientSettings, parameters: Record<string, string> = {}): Promise<void> {
    const verifier = randomString();
    const state = randomString();
    const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, ...(options.returnToHash === true ? { hash: location.hash } : {}) }));
    const url = new URL(settings.authorize, location.origin);
    url.search = new URLSearchParams({
      client_id: settings.clientId,
      response_type: 'code',
      redirect_uri: settings.appUrl,
      scope: options.scope,
      ...extra(settings),
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
      ...parameters,
    }).toString();
    location.assign(url.toString());
  }

  async function tokenRequest(settings: PublicClientSettings, parameters: Record<string, string>): Promise<Tokens> {
    const response = await fetch(settings.token, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({ client_id: settings.clientId, ...extra(settings), ...parameters }),
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
    options.onTokens?.(tokens);
    return tokens;
  }

  /** Finishes a sign-in when the page is the redirect back from the hosted pages; undefined otherwise. */
  async function completeSignIn(settings: PublicClientSettings): Promise<Tokens | undefined> {
    const query = new URLSearchParams(location.search);
    if (!query.has('code') && !query.has('error')) return undefined;
    const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as { verifier: string; state: string; hash?: string } | null;
    sessionStorage.removeItem(PENDING);
    history.replaceState(null, '', location.pathname + (pending?.hash ?? location.hash));
    // No sign-in of this tab's: a link someone made (its error_description would be shown as the
    // page's own words) or an old address — not an answer to anything here; the page goes on as a visit.
    if (pending === null) return undefined;
    // The state first, for an error too (RFC 6749 §4.1.2.1 returns it): only the answer to this tab's request is believed.
    if (query.get('state') !== pending.state) throw new SignInError('state mismatch');
    if (query.has('error')) throw new SignInError(query.get('error_description') ?? query.get('error') ?? 'error');
    return tokenRequest(settings, { grant_type: 'authorization_code', code: query.get('code') ?? '', redirect_uri: settings.appUrl, code_verifier: pending.verifier });
  }

  /** A new access token with the refresh token; undefined when there is none or it was refused. */
  async function refresh(settings: PublicClientSettings): Promise<Tokens | undefined> {
    const current = stored();
    if (current?.refreshToken === undefined) return undefined;
    try {
      return await tokenRequest(settings, { grant_type: 'refresh_token', refresh_token: current.refreshToken });
    } catch {
      forget();
      return undefined;
    }
  }

  /** Forgets the tokens and ends the provider's session (end_session, back to the app). */
  function signOut(settings: PublicClientSettings): void {
    const current = stored();
    forget();
    const url = new URL(settings.endSession, location.origin);
    const parameters: Record<string, string> = { client_id: settings.clientId, post_logout_redirect_uri: settings.appUrl };
    if (current?.idToken !== undefined) parameters.id_token_hint = current.idToken;
    url.search = new URLSearchParams(parameters).toString();
    location.assign(url.toString());
  }

  return { stored, forget, beginSignIn, completeSignIn, refresh, signOut };
}
