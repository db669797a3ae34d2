import type { ParsedSettings } from './schema.ts';
import { present } from './sources.ts';

/**
 * Rules that span settings, in every environment: each is valid alone, not together.
 * `settings` is undefined when the schema refused them; each problem starts with a setting's name.
 */
export function settingConflicts(raw: Readonly<Record<string, string>>, settings: ParsedSettings | undefined): string[] {
  const problems: string[] = [];
  if (present(raw.GATEHOUSE_ADMIN_USERNAME) !== present(raw.GATEHOUSE_ADMIN_PASSWORD)) {
    problems.push('GATEHOUSE_ADMIN_PASSWORD: GATEHOUSE_ADMIN_USERNAME and GATEHOUSE_ADMIN_PASSWORD go together');
  }
  // Whether a setting is given is known even when another setting is wrong: named in the same run.
  if (present(raw.GATEHOUSE_SMTP_URL) && !present(raw.GATEHOUSE_MAIL_FROM)) {
    problems.push('GATEHOUSE_MAIL_FROM: is required with GATEHOUSE_SMTP_URL (the From: address of every email)');
  }
  if (settings === undefined) return problems;
  // argon2's own m >= 8·p always holds: the memory minimum (1024) is 8 × the parallelism maximum (64) × 2.
  const s = settings;
  if (s.GATEHOUSE_HEADERS_TIMEOUT > s.GATEHOUSE_REQUEST_TIMEOUT) {
    problems.push('GATEHOUSE_HEADERS_TIMEOUT: must not be longer than GATEHOUSE_REQUEST_TIMEOUT (the request timeout covers the headers too)');
  }
  if (s.GATEHOUSE_LOCKOUT_MAX_SECONDS < s.GATEHOUSE_LOCKOUT_SECONDS) {
    problems.push('GATEHOUSE_LOCKOUT_MAX_SECONDS: must be at least GATEHOUSE_LOCKOUT_SECONDS');
  }
  if (s.GATEHOUSE_PASSWORD_MAX_LENGTH < s.GATEHOUSE_PASSWORD_MIN_LENGTH) {
    problems.push('GATEHOUSE_PASSWORD_MAX_LENGTH: must be at least GATEHOUSE_PASSWORD_MIN_LENGTH');
  }
  const classes = s.GATEHOUSE_PASSWORD_DIGITS + s.GATEHOUSE_PASSWORD_LOWERCASE + s.GATEHOUSE_PASSWORD_UPPERCASE + s.GATEHOUSE_PASSWORD_SPECIAL;
  if (classes > s.GATEHOUSE_PASSWORD_MAX_LENGTH) {
    problems.push(`GATEHOUSE_PASSWORD_MAX_LENGTH: must be at least the required digits, lowercase, uppercase and special characters together (${classes}), or no password could meet the policy`);
  }
  const interval = s.GATEHOUSE_KEY_ROTATION_INTERVAL;
  if (interval !== 0 && interval <= s.GATEHOUSE_KEY_PUBLISH_DELAY) {
    problems.push('GATEHOUSE_KEY_ROTATION_INTERVAL: must be 0 (off) or longer than GATEHOUSE_KEY_PUBLISH_DELAY, or new keys would be replaced before they sign');
  }
  return problems;
}
