import { z } from 'zod';
import { says } from '../errors/problems.ts';
import type { Config } from '../config/load.ts';
import type { RuntimeSettingName } from '../config/schema.ts';
import { OTP_DIGITS, OTP_LOOK_AHEAD, OTP_PERIODS, TOTP_ALGORITHMS, type OtpPolicy, type TotpAlgorithm } from '../mfa/totp.ts';
import { fieldsFrom, settingsFrom, wholeNumberChange, type SettingsGroup } from './group.ts';

/**
 * OTP policy (Keycloak: Authentication → Policies → OTP policy): how new authenticator apps are
 * enrolled (digits, period, algorithm) and how many steps either side of now a code may be from.
 * An app keeps the parameters it was enrolled with; the look-ahead applies to every app.
 */
export interface OtpSettings {
  readonly otp_digits: (typeof OTP_DIGITS)[number];
  readonly otp_period: (typeof OTP_PERIODS)[number];
  readonly otp_algorithm: TotpAlgorithm;
  readonly otp_look_ahead: number;
}

export const OTP_ENV: Readonly<Record<keyof OtpSettings, RuntimeSettingName>> = {
  otp_digits: 'GATEHOUSE_OTP_DIGITS',
  otp_period: 'GATEHOUSE_OTP_PERIOD',
  otp_algorithm: 'GATEHOUSE_OTP_ALGORITHM',
  otp_look_ahead: 'GATEHOUSE_OTP_LOOK_AHEAD',
};

const oneOf = <T extends number>(values: readonly T[]) =>
  z.number().refine((value): value is T => (values as readonly number[]).includes(value), says('one_of', { values: values.join(', ') }));

export const otpPatchSchema = z.strictObject({
  otp_digits: oneOf(OTP_DIGITS).nullable().optional(),
  otp_period: oneOf(OTP_PERIODS).nullable().optional(),
  otp_algorithm: z.enum(TOTP_ALGORITHMS).nullable().optional(),
  otp_look_ahead: wholeNumberChange(OTP_LOOK_AHEAD),
}) as unknown as z.ZodType<{ [K in keyof OtpSettings]?: OtpSettings[K] | null }>;

/** Each setting's field in the configuration's otp section and in the OTP policy. */
const OTP_FIELDS = {
  otp_digits: 'digits',
  otp_period: 'period',
  otp_algorithm: 'algorithm',
  otp_look_ahead: 'lookAhead',
} as const satisfies Record<keyof OtpSettings, keyof Config['otp'] & keyof OtpPolicy>;

export function configuredOtp(config: Pick<Config, 'otp'>): OtpSettings {
  return settingsFrom(OTP_FIELDS, config.otp);
}

export function otpPolicyOf(settings: OtpSettings): OtpPolicy {
  return fieldsFrom(OTP_FIELDS, settings);
}

/** OTP policy: /settings/otp. */
export const otpGroup: SettingsGroup<OtpSettings> = {
  id: 'otp',
  env: OTP_ENV,
  patchSchema: otpPatchSchema,
  storedShape: {
    otp_digits: { type: Number, enum: [...OTP_DIGITS] },
    otp_period: { type: Number, enum: [...OTP_PERIODS] },
    otp_algorithm: { type: String, enum: [...TOTP_ALGORITHMS] },
    otp_look_ahead: { type: Number, min: OTP_LOOK_AHEAD.min, max: OTP_LOOK_AHEAD.max },
  },
};
