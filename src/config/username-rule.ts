/**
 * The username rule (src/accounts/normalize.ts validUsername), here so that the configuration can
 * check GATEHOUSE_ADMIN_USERNAME by it too (src/config imports nothing from src/accounts).
 */

/**
 * Usernames: letters, digits, `.`, `_`, `-`; never `@`, so a login string is an email
 * exactly when it contains one and the two namespaces cannot collide.
 */
export const USERNAME = /^[\p{L}\p{N}._-]{1,64}$/u;

/**
 * The start of the username Keycloak gives a client's service account, which Keycloak-shaped
 * client_credentials tokens carry as `preferred_username` (src/oidc/keycloak-claims.ts) and apps
 * tell a service token by: no person's username starts with it (README "reserved usernames").
 */
export const SERVICE_ACCOUNT_PREFIX = 'service-account-';

/** Whether a username is one a client's service account is named by: SERVICE_ACCOUNT_PREFIX in any case or width. */
export function isServiceAccountName(username: string): boolean {
  return username.trim().normalize('NFKC').toLowerCase().startsWith(SERVICE_ACCOUNT_PREFIX);
}

/** What is wrong with a username (its problem code), or undefined when it is one. */
export function usernameProblem(username: string): 'username_format' | 'username_reserved' | undefined {
  const value = username.trim().normalize('NFKC');
  if (!USERNAME.test(value)) return 'username_format';
  return isServiceAccountName(value) ? 'username_reserved' : undefined;
}
