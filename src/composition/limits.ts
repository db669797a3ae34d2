import { openAttemptLimits, type AttemptLimits } from '../limits/attempt-limits.ts';
import { openDevicePolls, type DevicePolls } from '../limits/device-polls.ts';
import type { Wiring } from './wiring.ts';

export interface Limits {
  readonly attempts: AttemptLimits;
  /** Failed client authentications at the token endpoints (GATEHOUSE_CLIENT_AUTH_FAILURES). */
  readonly clientAuthFailures: ReturnType<AttemptLimits['limiter']>;
  /** Wrong device user codes (GATEHOUSE_USER_CODE_FAILURES). */
  readonly userCodeFailures: ReturnType<AttemptLimits['limiter']>;
  /** When each pending device code was last polled, for slow_down (RFC 8628 §3.5; src/oidc/grants/slow-down.ts). */
  readonly devicePolls: DevicePolls;
}

/** Attempt limits (Redis counters, MongoDB when Redis is absent or down) and the two the provider's gates use. */
export async function openLimits(w: Wiring): Promise<Limits> {
  const { config, core, logger, metrics, clock } = w;
  const attempts = await openAttemptLimits({
    redis: core.stores.redis,
    mongo: core.stores.mongo,
    logger,
    redisPrefix: config.redisPrefix,
    onFallback: (limiter) => metrics.rateLimitFallback(limiter),
    now: clock.now,
  });
  w.onClose(async () => attempts.close());
  const devicePolls = await openDevicePolls({
    redis: core.stores.redis,
    mongo: core.stores.mongo,
    locks: core.services.locks,
    logger,
    redisPrefix: config.redisPrefix,
    lifetimeSeconds: config.lifetimes.deviceCode,
    storeClock: w.options.storeClock,
    stopwatch: w.stopwatch,
    now: clock.now,
  });
  w.onClose(async () => devicePolls.close());
  const { windowSeconds } = config.attemptLimits;
  return {
    attempts,
    devicePolls,
    clientAuthFailures: attempts.limiter('client_auth', config.attemptLimits.clientAuthFailures, windowSeconds),
    userCodeFailures: attempts.limiter('user_code', config.attemptLimits.userCodeFailures, windowSeconds),
  };
}
