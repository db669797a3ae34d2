import { PASSWORD_INPUT_CAP, type PasswordPolicy } from '../config/password-policy.ts';
import { PasswordPolicyError, unmetRule, type UnmetPasswordRule } from './errors.ts';

export { PASSWORD_INPUT_CAP, type PasswordPolicy };

/** NIST SP 800-63B: at least 8 characters; every other rule off. */
export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = Object.freeze({
  minLength: 8,
  maxLength: PASSWORD_INPUT_CAP,
  digits: 0,
  lowercase: 0,
  uppercase: 0,
  special: 0,
  notUsername: false,
  notEmail: false,
  history: 0,
});

/** Whose password it is, for the rules that compare with them (never anyone else's data). */
export interface PasswordOwner {
  readonly username?: string | null | undefined;
  readonly email?: string | null | undefined;
}

/** Length in Unicode code points, so an emoji or a CJK character counts as one. */
export function passwordLength(password: string): number {
  let n = 0;
  for (const _ of password) n++;
  return n;
}

const count = (password: string, pattern: RegExp) => password.match(pattern)?.length ?? 0;
const same = (a: string, b: string | null | undefined) => typeof b === 'string' && b !== '' && a.normalize('NFC').toLocaleLowerCase('und') === b.normalize('NFC').toLocaleLowerCase('und');

/** Every rule of the policy (history aside: it needs the stored hashes) the password breaks, in a fixed order. */
export function unmetRules(password: string, policy: PasswordPolicy, owner: PasswordOwner = {}): UnmetPasswordRule[] {
  const unmet: UnmetPasswordRule[] = [];
  const length = passwordLength(password);
  if (length < policy.minLength) unmet.push(unmetRule('too_short', policy.minLength));
  if (length > policy.maxLength) unmet.push(unmetRule('too_long', policy.maxLength));
  if (count(password, /\p{Nd}/gu) < policy.digits) unmet.push(unmetRule('digits', policy.digits));
  if (count(password, /\p{Ll}/gu) < policy.lowercase) unmet.push(unmetRule('lowercase', policy.lowercase));
  if (count(password, /\p{Lu}/gu) < policy.uppercase) unmet.push(unmetRule('uppercase', policy.uppercase));
  if (count(password, /[^\p{L}\p{N}]/gu) < policy.special) unmet.push(unmetRule('special', policy.special));
  if (policy.notUsername && same(password, owner.username)) unmet.push(unmetRule('not_username'));
  if (policy.notEmail && same(password, owner.email)) unmet.push(unmetRule('not_email'));
  return unmet;
}

/** Throws PasswordPolicyError naming every rule the password breaks (history aside). */
export function checkPassword(password: string, policy: PasswordPolicy, owner: PasswordOwner = {}): void {
  const unmet = unmetRules(password, policy, owner);
  if (unmet.length > 0) throw new PasswordPolicyError(unmet);
}
