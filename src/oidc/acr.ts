/**
 * Authentication context classes Gatehouse asserts in ID tokens (`acr`), weakest first. A
 * client asks for one with `acr_values`; discovery lists them in `acr_values_supported`.
 * The methods behind a sign-in are in `amr` (RFC 8176: pwd, otp, hwk, swk, mfa).
 */
export const ACR = {
  /** One factor: a password (or one passkey without user verification). */
  singleFactor: 'urn:gatehouse:acr:1fa',
  /** Two factors: a password and a one-time code or passkey, or a user-verified passkey. */
  multiFactor: 'urn:gatehouse:acr:mfa',
} as const;

export const ACR_VALUES: readonly string[] = [ACR.singleFactor, ACR.multiFactor];
