import { PasswordPolicyError } from './errors.ts';

export interface PasswordPolicy {
  readonly minLength: number;
  readonly maxLength: number;
}

/** NIST SP 800-63B: at least 8 characters; a generous cap so nobody feeds the hasher megabytes. */
export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = Object.freeze({ minLength: 8, maxLength: 1024 });

/** Length in Unicode code points, so an emoji or a CJK character counts as one. */
export function passwordLength(password: string): number {
  let n = 0;
  for (const _ of password) n++;
  return n;
}

export function checkPassword(password: string, policy: PasswordPolicy): void {
  const length = passwordLength(password);
  if (length < policy.minLength) {
    throw new PasswordPolicyError('too_short', `password must be at least ${policy.minLength} characters`);
  }
  if (length > policy.maxLength) {
    throw new PasswordPolicyError('too_long', `password must be at most ${policy.maxLength} characters`);
  }
}
