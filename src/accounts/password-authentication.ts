import type { PasswordHasher } from './hash-pool.ts';
import type { LoginLimiter } from './login-limiter-types.ts';
import { loginCountKey, loginKey } from './normalize.ts';
import { PASSWORD_INPUT_CAP, passwordLength } from './password-policy.ts';
import { toUser, type User } from './user.ts';
import type { StoredUser, UserModel } from './user-model.ts';

/** The one failure every page sees, whatever the reason. */
export const AUTHENTICATION_FAILED: { readonly ok: false } = Object.freeze({ ok: false });

export type AuthenticationResult = { readonly ok: true; readonly user: User } | typeof AUTHENTICATION_FAILED;

export type FailureReason = 'unknown_user' | 'wrong_password' | 'no_password' | 'locked' | 'disabled';

/** For audit and logs only: never show `reason` to the person signing in. */
export type AuthenticationEvent = (
  | {
      readonly outcome: 'success';
      readonly userId: string;
      readonly username: string;
      /** The application the user signs in to, when known. */
      readonly clientId: string | null;
      readonly ip: string;
      readonly at: Date;
      readonly rehashed: boolean;
    }
  | {
      readonly outcome: 'failure';
      readonly reason: FailureReason;
      /** Set when the login named an existing user (the typed login itself is never reported). */
      readonly userId: string | null;
      readonly username: string | null;
      readonly clientId: string | null;
      readonly ip: string;
      readonly at: Date;
      /** Set when this failure (or an earlier one) left a lock in force. */
      readonly lockedForSeconds: number | null;
    }
) & {
  /** Set when the password came to the token endpoint (`password`) rather than the hosted sign-in page. */
  readonly grantType?: string | undefined;
};

/**
 * Checks a login attempt. Unknown user, wrong password, locked and disabled all return the
 * same AUTHENTICATION_FAILED after the same work (one argon2 verification); the reason goes
 * to `onAuthentication`. Throws HashQueueFullError when the hashing pool is saturated.
 */
export type Authenticate = (login: string, password: string, ip: string, clientId?: string, grantType?: string) => Promise<AuthenticationResult>;

export interface PasswordAuthenticationDeps {
  readonly users: UserModel;
  readonly hasher: PasswordHasher;
  readonly limiter: LoginLimiter;
  readonly now: () => Date;
  /** Receives the reason behind every authentication result; must not throw. */
  readonly onAuthentication?: ((event: AuthenticationEvent) => void) | undefined;
  /** The store's lookup by normalized login (accounts.ts). */
  readonly findStoredByLogin: (key: string) => Promise<StoredUser | null>;
  /** Holds the user's document lock around `work` (accounts.ts). */
  readonly locked: <T>(id: string, work: () => Promise<T>) => Promise<T>;
  /** Notes the user's last sign-in (accounts.ts). */
  readonly signedIn: (id: string, at: Date) => Promise<void>;
}

/** Password sign-in against the user store: the limiter, one verification on every path, the rehash upgrade. */
export function createPasswordAuthentication({ users, hasher, limiter, now, onAuthentication, findStoredByLogin, locked, signedIn }: PasswordAuthenticationDeps): Authenticate {
  // The input cap is not a runtime setting: sign-in truncates at it without reading the policy
  // (a policy's lower maximum applies to new passwords only; imported longer ones still sign in).
  const maxLength = PASSWORD_INPUT_CAP;
  const report = (event: AuthenticationEvent) => {
    try {
      onAuthentication?.(event);
    } catch {
      // Auditing must not change the answer.
    }
  };

  async function rehash(user: StoredUser, password: string): Promise<boolean> {
    try {
      const passwordHash = await hasher.hash(password);
      // Compare-and-set under the user's lock (a filter alone is no compare-and-set on FerretDB
      // v1): a password changed meanwhile wins over the upgrade.
      return await locked(user._id, async () => {
        const current = await users.findById(user._id, { passwordHash: 1 }).lean<Pick<StoredUser, 'passwordHash'>>().exec();
        if (current?.passwordHash !== user.passwordHash) return false;
        const result = await users.updateOne({ _id: user._id }, { $set: { passwordHash } }).exec();
        return result.modifiedCount === 1;
      });
    } catch {
      // Under load the upgrade waits for a later login; the sign-in itself succeeded.
      return false;
    }
  }

  return async function authenticate(login, password, ip, clientId, grantType) {
    const via = grantType === undefined ? {} : { grantType };
    const key = loginKey(login);
    const user = key === '' ? null : await findStoredByLogin(key);
    // Logins that match nobody are limited too: otherwise "never locks" would reveal them.
    const subject = user?._id ?? `login:${loginCountKey(key)}`;
    // Checked and counted in one step: guesses sent together cannot all pass before one is counted.
    const lock = await limiter.attempt(subject, ip);
    // Exactly one verification on every path, so timing says nothing about the reason.
    const tooLong = passwordLength(password) > maxLength;
    const candidate = tooLong ? password.slice(0, maxLength) : password;
    const hash = user?.passwordHash ?? null;
    let matches: boolean;
    try {
      matches = hash === null ? await hasher.verifyDummy(candidate) : (await hasher.verify(hash, candidate)) && !tooLong;
    } catch (error) {
      // Not checked (the hash queue is full: 503): the attempt does not count.
      await limiter.release(subject, ip, lock);
      throw error;
    }

    let reason: FailureReason | undefined;
    if (lock.locked) reason = 'locked';
    else if (user === null) reason = 'unknown_user';
    else if (hash === null) reason = 'no_password';
    else if (!matches) reason = 'wrong_password';
    else if (user.disabled) reason = 'disabled';

    if (reason !== undefined || user === null) {
      const after = lock.locked ? lock : await limiter.recordFailure(subject, ip, lock);
      report({
        outcome: 'failure',
        reason: reason ?? 'unknown_user',
        userId: user?._id ?? null,
        username: user?.username ?? null,
        clientId: clientId ?? null,
        ip,
        at: now(),
        lockedForSeconds: after.locked ? after.retryAfterSeconds : null,
        ...via,
      });
      return AUTHENTICATION_FAILED;
    }

    await limiter.recordSuccess(subject, ip, lock);
    const rehashed = hash !== null && hasher.needsRehash(hash) ? await rehash(user, password) : false;
    const at = now();
    await signedIn(user._id, at);
    report({ outcome: 'success', userId: user._id, username: user.username, clientId: clientId ?? null, ip, at, rehashed, ...via });
    return { ok: true, user: toUser({ ...user, lastLoginAt: at }) };
  };
}
