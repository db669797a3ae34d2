import { ADMIN_ROLE } from '../oidc/admin-scope.ts';
import type { GatehouseServices } from '../services.ts';
import { lockKey } from '../storage/document-locks.ts';
import { OperationError } from './errors.ts';

/** Every change that can take the last admin away takes this lock around its check and its write. */
const ADMINS_LOCK = lockKey('users', '@admins');
const PAGE = 100;

/**
 * The console and the admin API let a person in only while they are enabled and hold the `admin`
 * role (src/admin/auth.ts). A change that would leave no such user — deleting or disabling the
 * last one, taking the role off them, deleting the role — is refused with 409 `last_admin`, as
 * Keycloak refuses to delete the master realm's last admin. Admin clients (client_credentials)
 * do not count: nobody signs in to the console with one. Disabled admins do not count either.
 * Two such changes at once (two operators, each removing one of the last two admins) are
 * serialised by one lock, so one of them sees the other's result; changes of anyone else take no lock.
 */
export function lastAdminGuard({ accounts, users, locks }: Pick<GatehouseServices, 'accounts' | 'users' | 'locks'>) {
  /** Whether an enabled admin (other than `except`) exists. */
  async function enabledAdmin(except?: string): Promise<boolean> {
    for (let offset = 0; ; offset += PAGE) {
      const page = await users.search({ role: ADMIN_ROLE, limit: PAGE, offset });
      if (page.users.some((user) => user.id !== except && !user.disabled)) return true;
      if (page.users.length < PAGE) return false;
    }
  }

  async function isEnabledAdmin(userId: string): Promise<boolean> {
    const user = await accounts.findById(userId);
    return user !== undefined && !user.disabled && user.roles.includes(ADMIN_ROLE);
  }

  return {
    /**
     * Runs `change`, which takes the account or the admin role away from `userId`, unless they are
     * the last enabled admin (409 last_admin).
     */
    async removing<T>(userId: string, change: () => Promise<T>): Promise<T> {
      if (!(await isEnabledAdmin(userId))) return change();
      return locks.hold(ADMINS_LOCK, async () => {
        if ((await isEnabledAdmin(userId)) && !(await enabledAdmin(userId))) throw new OperationError(409, 'last_admin');
        return change();
      });
    },

    /** Runs `change`, which takes the admin role off every user (its deletion), unless an enabled admin exists. */
    async removingRole<T>(role: string, change: () => Promise<T>): Promise<T> {
      if (role !== ADMIN_ROLE) return change();
      return locks.hold(ADMINS_LOCK, async () => {
        if (await enabledAdmin()) throw new OperationError(409, 'last_admin');
        return change();
      });
    },
  };
}

export type LastAdminGuard = ReturnType<typeof lastAdminGuard>;
