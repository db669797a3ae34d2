/// <reference lib="dom" />
/**
 * The account page signs users in as any public client would (browser-app/web/sign-in.ts).
 * For changes to how the user signs in, the API asks for a recent sign-in (RFC 9470); the page
 * then signs in again with max_age=0 and comes back to where it was.
 */
import { clientSettingsFrom, publicClient, type PublicClientSettings } from '../../browser-app/web/sign-in.ts';

export { SignInError, type Tokens } from '../../browser-app/web/sign-in.ts';

export interface AccountSettings extends PublicClientSettings {
  readonly api: string;
  readonly assets: string;
  /** The operator's brand name: the last part of every title, like the hosted pages'. */
  readonly brand: string;
}

export function settingsFrom(body: HTMLElement): AccountSettings {
  return { ...clientSettingsFrom(body), api: body.dataset.api ?? '', brand: body.dataset.brand ?? 'Gatehouse' };
}

const client = publicClient({ storageKey: 'gatehouse.account', scope: 'openid profile email', returnToHash: true });

export const { stored, forget, completeSignIn, refresh, signOut } = client;

const SILENT = 'gatehouse.account.silent';

/**
 * Off to the hosted sign-in pages; `again` asks for a fresh sign-in even within a session.
 * `silent` (prompt=none) shows no page: the provider's live session signs the page in, as
 * Keycloak's account console is signed in by its SSO session; without one it comes back with
 * an error at once (silentAttempted() then tells the page not to report it, nor to try again).
 */
export function beginSignIn(settings: AccountSettings, options: { again?: boolean; locale?: string; silent?: boolean } = {}): Promise<void> {
  const parameters: Record<string, string> = {};
  if (options.silent === true) {
    parameters.prompt = 'none';
    sessionStorage.setItem(SILENT, '1');
  }
  if (options.again === true) parameters.max_age = '0';
  if (options.locale !== undefined) parameters.ui_locales = options.locale;
  return client.beginSignIn(settings, parameters);
}

/** Whether this load comes back from a silent sign-in (asked once: the mark is gone after). */
export function silentAttempted(): boolean {
  const attempted = sessionStorage.getItem(SILENT) !== null;
  sessionStorage.removeItem(SILENT);
  return attempted;
}
