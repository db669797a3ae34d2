import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { createAccounts, type Accounts, type AccountsDeps } from '../../src/accounts/accounts.ts';
import type { AuthenticationEvent } from '../../src/accounts/password-authentication.ts';
import type { Argon2Params } from '../../src/accounts/argon2-params.ts';
import { createPasswordHasher, type HashPoolEvent, type PasswordHasher } from '../../src/accounts/hash-pool.ts';
import { createLoginLimiter } from '../../src/accounts/login-limiter.ts';
import type { LoginLimiter } from '../../src/accounts/login-limiter-types.ts';
import type { LockoutPolicy } from '../../src/accounts/login-limiter-policy.ts';
import { ensureUserIndexes, userModel } from '../../src/accounts/user-model.ts';
import { dateClock, type Clock } from '../../src/clock.ts';
import { createLogger } from '../../src/observability/logger.ts';

/** Cheap argon2id parameters so suites stay fast; the OWASP defaults are checked in one unit test. */
export const FAST_ARGON2: Argon2Params = Object.freeze({ memoryKiB: 1024, iterations: 1, parallelism: 1 });

/**
 * Small thresholds. Locks end on the harness's clock, so a test watches one run out by moving
 * the clock; the counting windows and the level memory are kept by the stores in real time and
 * are long enough that no slow machine reaches their end during a test.
 */
export const TEST_LOCKOUT_POLICY: LockoutPolicy = Object.freeze({
  accountIp: { threshold: 3, windowSeconds: 3600 },
  account: { threshold: 6, windowSeconds: 3600 },
  ip: { threshold: 10, windowSeconds: 3600 },
  lockSeconds: 60,
  maxLockSeconds: 480,
  levelMemorySeconds: 3600,
});

/** A documentation-range address nobody else in the run uses, so per-IP counters start at zero. */
export function randomIp(): string {
  const [a = 0, b = 0] = randomBytes(2);
  return `198.51.${a}.${b}`;
}

export interface AccountsHarness {
  readonly accounts: Accounts;
  readonly hasher: PasswordHasher;
  readonly limiter: LoginLimiter;
  readonly events: AuthenticationEvent[];
  readonly hashEvents: HashPoolEvent[];
  readonly logLines: string[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly connection: Connection;
  readonly redis?: Redis | undefined;
  readonly params?: Argon2Params;
  /** The lockout policy, or a function read at every attempt (runtime settings change it). */
  readonly policy?: LockoutPolicy | (() => Promise<LockoutPolicy>);
  readonly sweepIntervalMs?: number;
  /** The limiter's clock (when locks end); the system clock when absent. */
  readonly clock?: Clock;
  /** How long an attempt waits for a free place without one being freed (src/accounts/in-flight-wait.ts). */
  readonly inFlightWaitMs?: number;
  /** Each attempt that waited for a place (the metrics' hook). */
  readonly onInFlightWait?: (outcome: 'admitted' | 'refused') => void;
  readonly extra?: Partial<AccountsDeps>;
}

/** The account layer wired as the server will wire it, on real stores. */
export async function accountsHarness(options: HarnessOptions): Promise<AccountsHarness> {
  const logLines: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void logLines.push(line) });
  const hashEvents: HashPoolEvent[] = [];
  const events: AuthenticationEvent[] = [];
  const users = userModel(options.connection);
  await ensureUserIndexes(users);
  const hasher = createPasswordHasher({ params: options.params ?? FAST_ARGON2, size: 2, queueLimit: 16, observe: (e) => hashEvents.push(e) });
  const limiter = await createLoginLimiter({
    backend: options.redis === undefined ? { kind: 'mongo' } : { kind: 'redis', redis: options.redis },
    connection: options.connection,
    policy: options.policy ?? TEST_LOCKOUT_POLICY,
    logger,
    sweepIntervalMs: options.sweepIntervalMs ?? 60_000,
    ...(options.clock === undefined ? {} : { now: dateClock(options.clock), onClockJump: options.clock.onJump }),
    ...(options.inFlightWaitMs === undefined ? {} : { inFlightWaitMs: options.inFlightWaitMs }),
    ...(options.onInFlightWait === undefined ? {} : { onInFlightWait: options.onInFlightWait }),
  });
  const accounts = createAccounts({ users, hasher, limiter, onAuthentication: (e) => events.push(e), ...options.extra });
  return {
    accounts,
    hasher,
    limiter,
    events,
    hashEvents,
    logLines,
    async close() {
      limiter.close();
      await hasher.close();
    },
  };
}
