/**
 * Required actions (Keycloak's "Required user actions"): what a user must do at their next
 * sign-in before any application gets a code or tokens. An operator sets them (admin API, CLI,
 * console; a temporary password adds `update_password`), a Keycloak import carries them over,
 * and the sign-in's required-actions step (src/interactions/steps/required-actions.ts) asks for
 * each in this order, removing each as it is done. A user document without the field has none.
 */
export const REQUIRED_ACTIONS = ['update_password', 'verify_email', 'configure_totp', 'update_profile'] as const;

export type RequiredAction = (typeof REQUIRED_ACTIONS)[number];

export function isRequiredAction(value: unknown): value is RequiredAction {
  return typeof value === 'string' && (REQUIRED_ACTIONS as readonly string[]).includes(value);
}

/** Known actions of a stored list, once each, in the order the sign-in asks for them (unknown names are dropped). */
export function orderedActions(values: readonly unknown[] | undefined): RequiredAction[] {
  const given = new Set(values ?? []);
  return REQUIRED_ACTIONS.filter((action) => given.has(action));
}

/** Keycloak's names of the same actions (a realm export's `requiredActions`). */
export const KEYCLOAK_REQUIRED_ACTIONS: Readonly<Record<string, RequiredAction>> = {
  UPDATE_PASSWORD: 'update_password',
  VERIFY_EMAIL: 'verify_email',
  CONFIGURE_TOTP: 'configure_totp',
  UPDATE_PROFILE: 'update_profile',
};

/** What the protocol layer's account carries of a user (src/oidc/accounts.ts): never claims. */
export interface RequiredActionFlags {
  readonly requiredActions?: readonly RequiredAction[];
  /** Set while the user's address is unconfirmed. */
  readonly unverifiedEmail?: string;
}

/**
 * The required actions the hosted sign-in would ask a user for now: `verify_email` only while
 * their address is unconfirmed (one confirmed meanwhile is done; the sign-in removes it) and mail
 * can go out (without SMTP nobody could confirm: the sign-in passes over it and it stays listed).
 * The password grant refuses a user with any (it cannot ask for them), so the two agree, as
 * Keycloak's do (both ask whether a required action is due).
 */
export function undoneActions(flags: RequiredActionFlags | undefined, mailAvailable: boolean): RequiredAction[] {
  return (flags?.requiredActions ?? []).filter((action) => action !== 'verify_email' || (flags?.unverifiedEmail !== undefined && mailAvailable));
}
