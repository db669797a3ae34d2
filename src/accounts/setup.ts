import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Config } from '../config/load.ts';
import { migrateEmailKeys } from './email-key-migration.ts';
import type { Logger } from '../observability/logger.ts';
import { createAccounts, type Accounts } from './accounts.ts';
import type { AuthenticationEvent } from './password-authentication.ts';
import { createPasswordHasher, type HashPoolEvent, type PasswordHasher } from './hash-pool.ts';
import { dateClock, systemClock, type Clock } from '../clock.ts';
import { createLastLoginWriter, type LastLoginWriter } from './last-login.ts';
import { createSignIns, signInModel } from './sign-ins.ts';
import { createLoginLimiter } from './login-limiter.ts';
import type { LoginLimiter } from './login-limiter-types.ts';
import { lockoutPolicy, type LockoutPolicy } from './login-limiter-policy.ts';
import type { PasswordPolicy } from './password-policy.ts';
import type { UserChangeHook } from './user-changes.ts';
import { ensureUserIndexes, userModel } from './user-model.ts';

export interface AccountLayer {
  readonly accounts: Accounts;
  readonly hasher: PasswordHasher;
  readonly limiter: LoginLimiter;
  /** Pending last sign-in writes to `user_sign_ins` (written within a second, and at close). */
  readonly lastLogins: LastLoginWriter;
  /** Stops the sweeper and the hashing workers, writes pending sign-in times. */
  close(): Promise<void>;
}

export interface AccountLayerDeps {
  readonly config: Pick<Config, 'passwords' | 'lockout'>;
  readonly mongo: Connection;
  /** Counters go to Redis when given, else to MongoDB. */
  readonly redis?: Redis | undefined;
  /** GATEHOUSE_REDIS_PREFIX: deployments sharing a Redis server keep their own counters. */
  readonly redisPrefix?: string;
  readonly logger: Logger;
  readonly onHash?: (event: HashPoolEvent) => void;
  /** Each sign-in attempt that waited for a place among the attempts in flight (metrics). */
  readonly onInFlightWait?: (outcome: 'admitted' | 'refused') => void;
  readonly onAuthentication?: (event: AuthenticationEvent) => void;
  readonly onUserChange?: UserChangeHook;
  /** Runtime policies (src/settings/), read at each use; absent: the configuration's, fixed. */
  readonly policies?: { readonly password?: () => Promise<PasswordPolicy>; readonly lockout?: () => Promise<LockoutPolicy>; readonly defaultRoles?: () => Promise<readonly string[]> };
  /**
   * When lockouts end, what users' dates say (created, changed, signed in), and the timers of the batched last-sign-in writes and of idle hashing
   * workers (src/clock.ts). A moved clock's jumps also run the lockout sweeper, where there is one, at once.
   */
  readonly clock?: Clock;
  /**
   * Create the users' and lockouts' indexes (default); false when they exist already or the caller
   * only reads (src/storage/index-mark.ts). The unique indexes are what keep usernames and emails unique.
   */
  readonly indexes?: boolean;
  /**
   * Bring stored email keys to this version's form (email-key-migration.ts; once per database,
   * then one read of its mark). Default: as `indexes`. A caller that may write sets it whether or
   * not it creates indexes: a CLI command on a database an older server marked must not add
   * keys of the new form beside ones of the old (`gatehouse users create` before any new server started).
   */
  readonly migrate?: boolean;
}

/**
 * The account layer from settings and open connections: creates indexes (unless told not to), sets up the hashing
 * pool (its workers start with the first hash) and the limiter. For the server at startup and for one-shot CLI commands alike.
 */
export async function startAccountLayer({ config, policies, mongo, redis, redisPrefix = '', logger, onHash, onInFlightWait, onAuthentication, onUserChange, clock = systemClock, indexes = true, migrate = indexes }: AccountLayerDeps): Promise<AccountLayer> {
  const users = userModel(mongo);
  if (indexes) await ensureUserIndexes(users);
  if (migrate) await migrateEmailKeys(mongo, logger);
  const limiter = await createLoginLimiter({
    backend: redis === undefined ? { kind: 'mongo' } : { kind: 'redis', redis, prefix: redisPrefix },
    connection: mongo,
    policy: policies?.lockout ?? lockoutPolicy(config.lockout),
    logger,
    now: dateClock(clock),
    onClockJump: clock.onJump,
    indexes,
    ...(onInFlightWait ? { onInFlightWait } : {}),
  });
  const { argon2, poolSize, queueLimit, idleTimeoutMs, policy } = config.passwords;
  const hasher = createPasswordHasher({ params: argon2, size: poolSize, queueLimit, idleTimeoutMs, clock, ...(onHash ? { observe: onHash } : {}) });
  const lastLogins = createLastLoginWriter({ signIns: createSignIns(signInModel(mongo)), logger, clock });
  const accounts = createAccounts({
    users,
    hasher,
    limiter,
    lastLogins,
    passwordPolicy: policies?.password ?? policy,
    ...(policies?.defaultRoles === undefined ? {} : { defaultRoles: policies.defaultRoles }),
    now: dateClock(clock),
    ...(onAuthentication ? { onAuthentication } : {}),
    ...(onUserChange ? { onChange: onUserChange } : {}),
  });
  return {
    accounts,
    hasher,
    limiter,
    lastLogins,
    async close() {
      limiter.close();
      await Promise.all([hasher.close(), lastLogins.close()]);
    },
  };
}
