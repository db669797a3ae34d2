import type { Connection } from 'mongoose';
import type { LoginLimiter } from '../accounts/login-limiter-types.ts';
import { createSecretBox, deriveKey } from '../crypto/secret-box.ts';
import { createFactors, type FactorEvent, type Factors } from './factors.ts';
import { ensureFactorIndexes, factorModels } from './model.ts';
import type { OtpPolicy } from './totp.ts';

export interface FactorsSetup {
  readonly mongo: Connection;
  /** GATEHOUSE_SECRET: seals TOTP secrets and keys the recovery codes' HMAC. */
  readonly secret: string;
  readonly limiter: LoginLimiter;
  /** The OTP policy in force (runtime settings); RFC 6238's defaults without it. */
  readonly otpPolicy?: () => Promise<OtpPolicy>;
  readonly now?: () => Date;
  readonly onEvent?: (event: FactorEvent) => void;
  /** Create the collections' indexes (default); false when they exist already or the caller only reads (src/storage/index-mark.ts). */
  readonly indexes?: boolean;
}

/** The second-factor service over its collections (indexes created here unless told otherwise). */
export async function openFactors({ mongo, secret, limiter, otpPolicy, now, onEvent, indexes = true }: FactorsSetup): Promise<Factors> {
  const models = factorModels(mongo);
  if (indexes) await ensureFactorIndexes(models);
  return createFactors({
    models,
    box: createSecretBox(secret, 'mfa'),
    recoveryKey: deriveKey(secret, 'mfa-recovery-codes'),
    limiter,
    ...(otpPolicy ? { otpPolicy } : {}),
    ...(now ? { now } : {}),
    ...(onEvent ? { onEvent } : {}),
  });
}
