/// <reference lib="dom" />
/**
 * The console signs operators in as any public client would (browser-app/web/sign-in.ts), with
 * the admin API as the `resource` of every token; an idle console revokes its refresh token and
 * asks for credentials again.
 */
import { clientSettingsFrom, idTokenClaims, publicClient, type PublicClientSettings } from '../../browser-app/web/sign-in.ts';

export { SignInError, type Tokens } from '../../browser-app/web/sign-in.ts';

export interface ConsoleSettings extends PublicClientSettings {
  readonly revocation: string;
  readonly admin: string;
  readonly resource: string;
  readonly assets: string;
  /** Seconds without activity before the console signs out (GATEHOUSE_CONSOLE_IDLE_TIMEOUT). */
  readonly idleSeconds: number;
}

/** Set when the console ended an idle session: the next sign-in asks for credentials again. */
const REAUTHENTICATE = 'gatehouse.console.reauthenticate';
export const SCOPE = 'openid admin';

export function settingsFrom(body: HTMLElement): ConsoleSettings {
  const read = (name: string) => body.dataset[name] ?? '';
  return { ...clientSettingsFrom(body), revocation: read('revocation'), admin: read('admin'), resource: read('resource'), idleSeconds: Number(read('idle')) || 900 };
}

const client = publicClient({
  storageKey: 'gatehouse.console',
  scope: SCOPE,
  parameters: (settings) => ({ resource: (settings as ConsoleSettings).resource }),
  onTokens: () => sessionStorage.removeItem(REAUTHENTICATE),
});

export const { stored, completeSignIn, refresh, signOut } = client;

export function beginSignIn(settings: ConsoleSettings): Promise<void> {
  return client.beginSignIn(settings, sessionStorage.getItem(REAUTHENTICATE) === null ? {} : { prompt: 'login' });
}

/**
 * Ends the console's session without leaving the page (idle timeout): the refresh token is
 * revoked at the provider, the tokens are forgotten, and the next sign-in asks for credentials
 * again (prompt=login) even while the provider's session lasts.
 */
export async function endIdleSession(settings: ConsoleSettings): Promise<void> {
  const current = stored();
  client.forget();
  sessionStorage.setItem(REAUTHENTICATE, '1');
  if (current?.refreshToken === undefined) return;
  await fetch(settings.revocation, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: settings.clientId, token: current.refreshToken, token_type_hint: 'refresh_token' }).toString(),
  }).catch(() => undefined);
}

/** The `preferred_username` / `sub` of the ID token, for display only (the server decides access). */
export function whoAmI(): string {
  const claims = idTokenClaims(stored()?.idToken);
  return String(claims.preferred_username ?? claims.sub ?? '');
}
