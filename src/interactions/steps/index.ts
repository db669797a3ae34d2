import { ACR } from '../../oidc/acr.ts';
import { consentStep, type ApiNames, type ConsentKeeper, type ScopeDescriptions, type SignedIn } from './consent.ts';
import { passwordStep, type Authenticator, type LoginExtension } from './password.ts';
import { createAccountStep } from './create-account.ts';
import type { RegistrationPart } from './registration.ts';
import { secondFactorStep, type SecondFactorDeps } from './second-factor.ts';
import type { SignInStep } from './step.ts';
import { verifyEmailStep, type VerifyEmailDeps } from './verify-email.ts';
import { requiredActionsStep, type RequiredActionsDeps } from './required-actions.ts';

export interface StepDeps {
  readonly authenticator: Authenticator;
  readonly secondFactor: SecondFactorDeps;
  /** Who is signed in, for the consent page's "Signed in as … Not you? Sign out". */
  readonly signedIn?: SignedIn;
  /** Keeps the consent page's Allow beyond the sign-in session (the user's consent records). */
  readonly consents?: ConsentKeeper;
  /** The consent page's names of APIs (display names, not addresses). */
  readonly apiNames?: ApiNames;
  /** The consent page's words for claim scopes (the operator's descriptions). */
  readonly scopeDescriptions?: ScopeDescriptions;
  /** The "Forgot password?" link on the sign-in page, while password reset is on. */
  readonly forgotPasswordPath?: () => Promise<string | undefined>;
  /** Self-registration from the sign-in page (GATEHOUSE_SELF_REGISTRATION). */
  readonly registration?: RegistrationPart;
  /** The stop for an unconfirmed email address (GATEHOUSE_REQUIRE_VERIFIED_EMAIL). */
  readonly verifyEmail?: VerifyEmailDeps;
  /** Other ways to sign in on the login page (upstream identity providers). */
  readonly loginExtension?: LoginExtension;
  /** What an operator asked the user to do before signing in (required actions, temporary passwords). */
  readonly requiredActions?: RequiredActionsDeps;
}

/**
 * Gatehouse's sign-in steps, in policy order: a step with a custom prompt is asked after the
 * ones before it. `extra` steps (a test's, a later feature's) come after Gatehouse's own.
 */
export function signInSteps(deps: StepDeps, extra: readonly SignInStep[] = []): SignInStep[] {
  const { passkeys, challengeKey } = deps.secondFactor;
  return [
    // prompt=create: where people can register (mail configured; the runtime setting is checked per request).
    ...(deps.registration?.available === true ? [createAccountStep(deps.registration)] : []),
    passwordStep(deps.authenticator, ACR.singleFactor, { passkeys, challengeKey }, deps.forgotPasswordPath, deps.registration, deps.loginExtension),
    ...(deps.verifyEmail === undefined ? [] : [verifyEmailStep(deps.verifyEmail)]),
    secondFactorStep(deps.secondFactor, deps.loginExtension?.afterSecondFactor?.bind(deps.loginExtension)),
    // After the second factor (a required password change must not come before it), before consent.
    ...(deps.requiredActions === undefined ? [] : [requiredActionsStep(deps.requiredActions)]),
    ...extra,
    consentStep(deps.signedIn, deps.consents, deps.apiNames, deps.scopeDescriptions),
  ];
}
