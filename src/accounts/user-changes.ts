/**
 * Runs after every write to a user's record, so caches of the user (src/oidc/account-cache.ts)
 * can drop it: here and, through Redis, on every instance.
 */
export type UserChangeHook = (userId: string) => Promise<void>;

/** Announced instead of a user id when one write touched many users (a role or group removed). */
export const ALL_USERS = '*';

export const ignoreUserChanges: UserChangeHook = async () => {};
