import type { ImportedTotp } from '../mfa/factors.ts';
import { base32Secret, TOTP_DIGITS, type TotpAlgorithm } from '../mfa/totp.ts';

/**
 * A Keycloak OTP credential (`type: "otp"` in a user's `credentials`) as Gatehouse's TOTP.
 * Keycloak keeps `secretData: {"value": …}` and `credentialData: {"subType", "digits",
 * "period", "algorithm", "counter", "secretEncoding"?}` as JSON strings. The secret is the
 * string Keycloak generated; authenticator apps got its UTF-8 bytes (base32 in the QR code),
 * unless `secretEncoding` is `BASE32` (secrets given to Keycloak in base32 form).
 */
const ALGORITHMS: Readonly<Record<string, TotpAlgorithm>> = { HmacSHA1: 'SHA1', HmacSHA256: 'SHA256', HmacSHA512: 'SHA512' };
/** Keycloak's policy offers periods up to 120 s; anything far beyond is not a TOTP an app shows. */
const MAX_PERIOD = 300;

type Json = Record<string, unknown>;

export type KeycloakOtp = { readonly ok: true; readonly totp: ImportedTotp } | { readonly ok: false; readonly reason: string };

export function keycloakTotp(credential: Json, secretData: Json, credentialData: Json): KeycloakOtp {
  const subType = credentialData.subType ?? 'totp';
  if (subType !== 'totp') {
    return { ok: false, reason: `${String(subType)} (counter-based) authenticator: not imported (Gatehouse takes time-based codes); the user enrols an app again` };
  }
  const algorithm = ALGORITHMS[String(credentialData.algorithm ?? 'HmacSHA1')];
  const digits = Number(credentialData.digits ?? 6);
  const period = Number(credentialData.period ?? 30);
  if (algorithm === undefined) return { ok: false, reason: `authenticator with algorithm ${String(credentialData.algorithm)}: not imported` };
  if (!Number.isInteger(digits) || digits < TOTP_DIGITS.min || digits > TOTP_DIGITS.max) return { ok: false, reason: `authenticator with ${String(credentialData.digits)} digits: not imported` };
  if (!Number.isInteger(period) || period < 1 || period > MAX_PERIOD) return { ok: false, reason: `authenticator with a ${String(credentialData.period)} s period: not imported` };
  const value = secretData.value;
  if (typeof value !== 'string' || value === '') return { ok: false, reason: 'authenticator without its secret in the export: not imported' };
  let secret: string;
  if (credentialData.secretEncoding === 'BASE32') {
    secret = value.replace(/[\s=]/g, '').toUpperCase();
    if (!/^[A-Z2-7]+$/.test(secret)) return { ok: false, reason: 'authenticator whose base32 secret does not decode: not imported' };
  } else {
    secret = base32Secret(Buffer.from(value, 'utf8'));
  }
  const enrolledAt = new Date(typeof credential.createdDate === 'number' ? credential.createdDate : 0);
  return { ok: true, totp: { secret, parameters: { algorithm, digits, period }, enrolledAt } };
}
