import { createRequire } from 'node:module';
import type * as Otpauth from 'otpauth';

const load = createRequire(import.meta.url);
let library: typeof Otpauth | undefined;
/**
 * otpauth, loaded by the first code, enrolment or import that needs it, not by the start: an
 * instance that only answers tokens never loads it (docs/PERFORMANCE.md, perf24). Synchronous
 * (its Node build is CommonJS too), so every function here keeps its signature.
 */
const otpauth = (): typeof Otpauth => (library ??= load('otpauth') as typeof Otpauth);

/**
 * How an authenticator computes its codes. Gatehouse enrols with RFC 6238's defaults as every
 * app reads them (SHA-1, 6 digits, 30-second steps); credentials imported from elsewhere
 * (Keycloak's OTP policy) may use SHA-256/512, 8 digits or another period.
 */
export interface TotpParameters {
  readonly algorithm: TotpAlgorithm;
  readonly digits: number;
  readonly period: number;
}

export const TOTP_ALGORITHMS = ['SHA1', 'SHA256', 'SHA512'] as const;
export type TotpAlgorithm = (typeof TOTP_ALGORITHMS)[number];
export const DEFAULT_TOTP: TotpParameters = { algorithm: 'SHA1', digits: 6, period: 30 };
/** The digits an authenticator may show (RFC 4226 §5.3 asks for at least 6; apps show 6 or 8). */
export const TOTP_DIGITS = { min: 6, max: 8 } as const;

/** What the OTP policy may choose for new apps (Keycloak's OTP policy offers the same). */
export const OTP_DIGITS = [6, 8] as const;
export const OTP_PERIODS = [30, 60] as const;
/** Steps either side of now a code may belong to (clock drift); Keycloak's look-ahead window. */
export const OTP_LOOK_AHEAD = { min: 0, max: 10 } as const;

/** The OTP policy (src/settings/otp.ts): parameters of new apps, and the look-ahead for every app. */
export interface OtpPolicy extends TotpParameters {
  readonly lookAhead: number;
}

export const DEFAULT_OTP_POLICY: OtpPolicy = Object.freeze({ ...DEFAULT_TOTP, lookAhead: 1 });

export function newTotpSecret(): string {
  return new (otpauth().Secret)({ size: 20 }).base32;
}

/** The base32 form Gatehouse keeps of a secret given as raw bytes. */
export function base32Secret(bytes: Uint8Array): string {
  return new (otpauth().Secret)({ buffer: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer }).base32;
}

function totp(secret: string, parameters: TotpParameters, label = 'user', issuer = 'Gatehouse'): Otpauth.TOTP {
  const { Secret, TOTP } = otpauth();
  return new TOTP({ issuer, label, algorithm: parameters.algorithm, digits: parameters.digits, period: parameters.period, secret: Secret.fromBase32(secret) });
}

/** The otpauth:// URI an authenticator app scans. */
export function totpUri(secret: string, label: string, issuer: string, parameters: TotpParameters = DEFAULT_TOTP): string {
  return totp(secret, parameters, label, issuer).toString();
}

/**
 * The step the code belongs to, accepting `window` steps before and after too (clock drift;
 * 1 by default); undefined when the code matches none of them.
 */
export function totpStep(secret: string, code: string, now: Date, parameters: TotpParameters = DEFAULT_TOTP, window = 1): number | undefined {
  if (code.length !== parameters.digits || !/^\d+$/.test(code)) return undefined;
  const delta = totp(secret, parameters).validate({ token: code, timestamp: now.getTime(), window });
  if (delta === null) return undefined;
  return Math.floor(now.getTime() / 1000 / parameters.period) + delta;
}

/** A code for `at` (tests and the CLI's checks compute codes the way an app does). */
export function totpCode(secret: string, at: Date, parameters: TotpParameters = DEFAULT_TOTP): string {
  return totp(secret, parameters).generate({ timestamp: at.getTime() });
}
