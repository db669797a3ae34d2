/**
 * Every attempt limiter's name (src/limits/attempt-limits.ts): the one list its limiter() takes a
 * name from and gatehouse_rate_limit_fallback_total labels by (metrics.ts), so a new limiter is
 * added here or does not type-check, and is never counted as `other`. Kept in observability/,
 * which imports nothing from the layers it watches; they import it.
 */
export const LIMITER_NAMES = [
  'client_auth',
  'user_code',
  'password_reset_ip',
  'password_reset_login',
  'registration_ip',
  'registration_email',
  'email_verification_resend',
  'email_change',
  'email_change_resend',
] as const;

export type LimiterName = (typeof LIMITER_NAMES)[number];
