/**
 * What a new password must be (Keycloak's password policy types: length, maxLength, digits,
 * lowerCase, upperCase, specialChars, notUsername, notEmail, passwordHistory). Counts of 0 and
 * false switch a rule off. The configuration gives one (GATEHOUSE_PASSWORD_*), the runtime
 * settings may replace it (src/settings/password-policy.ts), src/accounts checks passwords by it:
 * the shape lives here, below both.
 */
export interface PasswordPolicy {
  readonly minLength: number;
  readonly maxLength: number;
  /** Fewest decimal digits (Unicode Nd). */
  readonly digits: number;
  /** Fewest lowercase letters (Unicode Ll). */
  readonly lowercase: number;
  /** Fewest uppercase letters (Unicode Lu). */
  readonly uppercase: number;
  /** Fewest characters that are neither letters nor digits (as Keycloak counts specialChars). */
  readonly special: number;
  /** Not the user's username, compared case-insensitively. */
  readonly notUsername: boolean;
  /** Not the user's email address, compared case-insensitively. */
  readonly notEmail: boolean;
  /** The new password may not be any of the user's last N passwords, the current one included (0 = off). */
  readonly history: number;
}

/** The longest password anything accepts, sign-in included: nobody feeds the hasher megabytes. */
export const PASSWORD_INPUT_CAP = 1024;

type CountRule = { [K in keyof PasswordPolicy]: PasswordPolicy[K] extends number ? K : never }[keyof PasswordPolicy];

/** The bounds of each count (the environment variables, the runtime settings and the console's inputs). */
export const PASSWORD_POLICY_BOUNDS: Readonly<Record<CountRule, { readonly min: number; readonly max: number }>> = {
  // NIST SP 800-63B's floor; the ceiling is the hasher's input cap.
  minLength: { min: 8, max: PASSWORD_INPUT_CAP },
  maxLength: { min: 8, max: PASSWORD_INPUT_CAP },
  digits: { min: 0, max: 128 },
  lowercase: { min: 0, max: 128 },
  uppercase: { min: 0, max: 128 },
  special: { min: 0, max: 128 },
  // Each remembered password costs one argon2 verification when a password changes.
  history: { min: 0, max: 24 },
};
