import { Schema, type Connection, type Model } from 'mongoose';
import { TOTP_ALGORITHMS, type TotpParameters } from './totp.ts';

/**
 * A user's second factors, one document per user in `mfa_factors` (`_id` = the user id).
 * The TOTP secret is sealed with the secret box (purpose `mfa`, associated data = user id);
 * `totpPending` holds a secret shown for enrolment and not yet confirmed with a code.
 * `lastTotpStep` is the newest 30-second step a code was accepted for: older and equal steps
 * are refused (RFC 6238 §5.2), `mfa_used_steps` settles two instances racing on one code.
 * An app keeps its `algorithm`, `digits` and `period` next to the secret: the OTP policy's when
 * it was enrolled here (src/settings/otp.ts), or Keycloak's for an imported one. Apps enrolled
 * before parameters were stored have none and use RFC 6238's defaults.
 */
export interface StoredFactors {
  _id: string;
  totp: ({ sealed: string; confirmedAt: Date } & Partial<TotpParameters>) | null;
  /** The parameters are the OTP policy's when enrolment began (absent on older pending apps: the defaults). */
  totpPending: ({ sealed: string; createdAt: Date } & Partial<TotpParameters>) | null;
  lastTotpStep: number;
  updatedAt: Date;
}

/** One unused recovery code: `_id` is an HMAC of user id and code, never the code. */
export interface StoredRecoveryCode {
  _id: string;
  userId: string;
  createdAt: Date;
}

/**
 * A TOTP step accepted for a user (`_id` = `<userId>:<step>`): inserted once, so a replay on another
 * instance fails. `expiresAt` is the end of the last step at which a code of this one is still taken
 * (the look-ahead after it): the row goes then (src/mfa/used-step-expiry.ts), its work done — a user
 * deleted meanwhile leaves none for longer. Rows written before it existed have none.
 */
export interface StoredUsedStep {
  _id: string;
  userId: string;
  step: number;
  expiresAt: Date;
}

export const USED_STEPS_COLLECTION = 'mfa_used_steps';

const factorsSchema = new Schema<StoredFactors>(
  {
    _id: { type: String, required: true },
    totp: {
      type: new Schema(
        {
          sealed: { type: String, required: true },
          confirmedAt: { type: Date, required: true },
          algorithm: { type: String, enum: TOTP_ALGORITHMS },
          digits: Number,
          period: Number,
        },
        { _id: false },
      ),
      default: null,
    },
    totpPending: {
      type: new Schema(
        { sealed: { type: String, required: true }, createdAt: { type: Date, required: true }, algorithm: { type: String, enum: TOTP_ALGORITHMS }, digits: Number, period: Number },
        { _id: false },
      ),
      default: null,
    },
    lastTotpStep: { type: Number, required: true, default: 0 },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'mfa_factors', versionKey: false, strict: 'throw', timestamps: false },
);

const recoveryCodeSchema = new Schema<StoredRecoveryCode>(
  { _id: { type: String, required: true }, userId: { type: String, required: true }, createdAt: { type: Date, required: true } },
  { collection: 'mfa_recovery_codes', versionKey: false, strict: 'throw', timestamps: false },
);
recoveryCodeSchema.index({ userId: 1 }, { name: 'userId' });

const usedStepSchema = new Schema<StoredUsedStep>(
  { _id: { type: String, required: true }, userId: { type: String, required: true }, step: { type: Number, required: true }, expiresAt: { type: Date, required: true } },
  { collection: USED_STEPS_COLLECTION, versionKey: false, strict: 'throw', timestamps: false },
);
usedStepSchema.index({ userId: 1, step: 1 }, { name: 'userId_step' });

export interface FactorModels {
  readonly factors: Model<StoredFactors>;
  readonly recoveryCodes: Model<StoredRecoveryCode>;
  readonly usedSteps: Model<StoredUsedStep>;
}

export function factorModels(connection: Connection): FactorModels {
  return {
    factors: (connection.models.MfaFactors as Model<StoredFactors> | undefined) ?? connection.model<StoredFactors>('MfaFactors', factorsSchema),
    recoveryCodes:
      (connection.models.MfaRecoveryCode as Model<StoredRecoveryCode> | undefined) ?? connection.model<StoredRecoveryCode>('MfaRecoveryCode', recoveryCodeSchema),
    usedSteps: (connection.models.MfaUsedStep as Model<StoredUsedStep> | undefined) ?? connection.model<StoredUsedStep>('MfaUsedStep', usedStepSchema),
  };
}

/** Creates the collections' indexes; called once at startup. */
export async function ensureFactorIndexes(models: FactorModels): Promise<void> {
  await Promise.all([models.recoveryCodes.createIndexes(), models.usedSteps.createIndexes()]);
}
