import type { PasswordRule, UnmetPasswordRule } from '../accounts/errors.ts';
import type { PasswordPolicy } from '../accounts/password-policy.ts';
import type { Translate } from './i18n.ts';

/** One rule in the reader's language: `password_policy.<rule>`, in the form its number asks for (`[one]`, `[few]`, `[=1]`, …). */
function phrase(t: Translate, rule: PasswordRule, limit: number | undefined): string {
  return t(`password_policy.${rule}`, { n: String(limit ?? '') }, limit);
}

const joined = (t: Translate, phrases: string[]) => phrases.join(t('password_policy.separator'));

/** What the policy asks of a new password, for the hint under the field: every rule that is on. */
export function passwordRequirements(t: Translate, policy: PasswordPolicy): string {
  const rules: Array<[PasswordRule, number | undefined, boolean]> = [
    ['too_short', policy.minLength, true],
    ['too_long', policy.maxLength, policy.maxLength < 1024],
    ['digits', policy.digits, policy.digits > 0],
    ['lowercase', policy.lowercase, policy.lowercase > 0],
    ['uppercase', policy.uppercase, policy.uppercase > 0],
    ['special', policy.special, policy.special > 0],
    ['not_username', undefined, policy.notUsername],
    ['not_email', undefined, policy.notEmail],
    ['history', policy.history, policy.history > 0],
  ];
  return t('password_policy.requirements', { rules: joined(t, rules.filter(([, , on]) => on).map(([rule, limit]) => phrase(t, rule, limit))) });
}

/** The rules a chosen password broke, named in the reader's language. */
export function unmetRequirements(t: Translate, unmet: readonly UnmetPasswordRule[]): string {
  return t('password_policy.unmet', { rules: joined(t, unmet.map(({ rule, limit }) => phrase(t, rule, limit))) });
}
