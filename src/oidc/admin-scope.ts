import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AccountDirectory } from './accounts.ts';
import { ADMIN_ROLE } from '../roles/admin-role.ts';

/** The admin API's one scope, and the role a user needs for it (src/admin/auth.ts checks both on every call too). */
export const ADMIN_SCOPE = 'admin';
export { ADMIN_ROLE };

/**
 * The admin API's scopes a token may carry for the user it is issued to: without the `admin`
 * role, none of `admin` — left out silently, as Keycloak leaves out a role-mapped client scope
 * and Auth0 an RBAC permission the user does not hold. Read at every issuance (code, refresh,
 * device, password grant), so a role taken away stops the next token. A token with no user
 * (client_credentials: admin clients only, resource-servers.ts) is not narrowed here.
 */
export async function adminScopesFor(ctx: KoaContextWithOIDC, scopes: readonly string[], accounts: AccountDirectory): Promise<readonly string[]> {
  const accountId = ctx.oidc.account?.accountId;
  if (accountId === undefined || !scopes.includes(ADMIN_SCOPE)) return scopes;
  if (await hasAdminRole(accounts, accountId)) return scopes;
  return scopes.filter((scope) => scope !== ADMIN_SCOPE);
}

/** Whether an active user holds the admin role (the admin API's scope needs it). */
export async function hasAdminRole(accounts: AccountDirectory, accountId: string): Promise<boolean> {
  const roles = (await accounts.findActive(accountId))?.claims.roles;
  return Array.isArray(roles) && roles.includes(ADMIN_ROLE);
}
