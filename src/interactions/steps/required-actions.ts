import { interactionPolicy, type Account } from 'oidc-provider';
import { PasswordPolicyError } from '../../accounts/errors.ts';
import type { PasswordPolicy } from '../../accounts/password-policy.ts';
import type { RequiredAction, RequiredActionFlags } from '../../accounts/required-actions.ts';
import type { User } from '../../accounts/user.ts';
import type { AuditSink } from '../../observability/audit-trail.ts';
import { passwordRequirements, unmetRequirements } from '../password-rules.ts';
import type { SignInStep, StepContext } from './step.ts';
import { secondFactorLogin, type TotpEnrolmentPages } from './totp-enrolment.ts';
import type { EmailConfirmation } from './verify-email.ts';

const { Check, Prompt } = interactionPolicy;

/** What the step reads and changes of the signed-in user. */
export type RequiredActionsUser = Pick<User, 'id' | 'username' | 'email' | 'emailVerified' | 'givenName' | 'familyName' | 'hasPassword' | 'requiredActions'>;

export interface RequiredActionsDeps {
  readonly accounts: {
    findById(id: string): Promise<RequiredActionsUser | undefined>;
    completeRequiredAction(id: string, action: RequiredAction): Promise<boolean>;
    isCurrentPassword(id: string, password: string): Promise<boolean>;
    /** The policy and the history apply (PasswordPolicyError). */
    setPassword(id: string, password: string): Promise<void>;
  };
  /** The profile fields `update_profile` asks for (the email address is changed on the account page, with its confirmation). */
  readonly updateNames: (id: string, names: { readonly givenName: string | null; readonly familyName: string | null }) => Promise<void>;
  /** The password policy in force (the hint under the field). */
  readonly passwordPolicy: () => Promise<PasswordPolicy>;
  /** Ends the user's other sign-in sessions (as the account page's password change does on request); resolves to how many. */
  readonly signOutOthers: (userId: string, keepSessionUid: string | undefined) => Promise<number>;
  /** Whether the user has an authenticator app already (configure_totp is then done). */
  readonly hasAuthenticatorApp: (userId: string) => Promise<boolean>;
  /** Records on the user that they now have a second factor (src/mfa/enrolment.ts). */
  readonly syncEnrolment: (userId: string) => Promise<boolean>;
  readonly totp: TotpEnrolmentPages;
  /** The email-confirmation page of the verify-email step; `available`: mail can go out. */
  readonly emailConfirmation: EmailConfirmation & { readonly available: boolean };
  readonly audit?: AuditSink | undefined;
}

/**
 * Whether the sign-in has required actions to ask for or to remove, from the profile's flags (no
 * store read; src/oidc/accounts.ts leaves out `update_password` for a user without a password and
 * `verify_email` for one without an address): `verify_email` while the address is unconfirmed and
 * mail can go out, or to remove it once the address is confirmed (as Keycloak does).
 */
export function actionsDue(account: Account | undefined, mailAvailable: boolean): boolean {
  const flags = account as RequiredActionFlags | undefined;
  return (flags?.requiredActions ?? []).some((action) => action !== 'verify_email' || flags?.unverifiedEmail === undefined || mailAvailable);
}

const PROFILE_FIELD_MAX = 256;

/**
 * Required actions (Keycloak's "Required user actions"): after the password and the second
 * factor, before consent, the user does what an operator (or a temporary password, or a
 * Keycloak import) asked of them, one action at a time in the order of
 * src/accounts/required-actions.ts; each done action is removed, and the authorization resumes
 * only when none is left, so no application gets a code before. The pages of an action already
 * built elsewhere are reused: the authenticator-app enrolment (totp-enrolment.ts) and the
 * email confirmation (verify-email.ts).
 */
export function requiredActionsStep(deps: RequiredActionsDeps): SignInStep {
  const mailAvailable = () => deps.emailConfirmation.available;
  const prompt = () =>
    new Prompt(
      { name: 'required_actions', requestable: false },
      new Check('required_actions_pending', 'the user has required actions to do before signing in', (ctx) =>
        ctx.oidc.session?.accountId !== undefined && actionsDue(ctx.oidc.account, mailAvailable()) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
      ),
    );

  async function userOf(step: StepContext): Promise<RequiredActionsUser> {
    const accountId = step.details.session?.accountId;
    const user = accountId === undefined ? undefined : await deps.accounts.findById(accountId);
    if (user === undefined) return step.koa.throw(400, 'There is no sign-in to continue.');
    return user;
  }

  async function completed(step: StepContext, user: RequiredActionsUser, action: RequiredAction, details: Record<string, unknown> = {}): Promise<void> {
    if (!(await deps.accounts.completeRequiredAction(user.id, action))) return;
    deps.audit?.record({
      type: 'user.required_action_completed',
      actor: { type: 'user', id: user.id, username: user.username },
      target: { type: 'user', id: user.id },
      client: step.client?.clientId,
      details: { action, ...details },
    });
  }

  /**
   * The first action to ask for now. One already done elsewhere (the address confirmed, an app
   * set up) is removed on the way; one that cannot be asked stays (update_password of a user
   * without a password, verify_email without an address or without mail).
   */
  async function nextAction(step: StepContext, user: RequiredActionsUser): Promise<RequiredAction | undefined> {
    for (const action of user.requiredActions) {
      if (action === 'update_password' && !user.hasPassword) continue;
      if (action === 'verify_email') {
        if (user.email !== null && user.emailVerified) {
          await completed(step, user, action);
          continue;
        }
        if (user.email === null || !mailAvailable()) continue;
      }
      if (action === 'configure_totp' && (await deps.hasAuthenticatorApp(user.id))) {
        await completed(step, user, action);
        continue;
      }
      return action;
    }
    return undefined;
  }

  async function passwordPage(step: StepContext, error?: string) {
    const policy = await deps.passwordPolicy();
    await step.render(
      { title: step.t('required_action.password_title'), minLength: policy.minLength, requirements: passwordRequirements(step.t, policy), error },
      { view: 'required-password' },
    );
  }

  async function profilePage(step: StepContext, user: RequiredActionsUser, values?: { givenName: string; familyName: string }, error?: string) {
    await step.render(
      { title: step.t('required_action.profile_title'), givenName: values?.givenName ?? user.givenName ?? '', familyName: values?.familyName ?? user.familyName ?? '', error },
      { view: 'required-profile' },
    );
  }

  async function show(step: StepContext, user?: RequiredActionsUser): Promise<void> {
    const current = user ?? (await userOf(step));
    const action = await nextAction(step, current);
    switch (action) {
      case undefined:
        // Nothing left that can be asked: the authorization resumes (the policy asks again only if something is).
        return step.finish({});
      case 'update_password':
        return passwordPage(step);
      case 'configure_totp':
        return deps.totp.page(step, current.id);
      case 'verify_email':
        return deps.emailConfirmation.page(step);
      case 'update_profile':
        return profilePage(step, current);
    }
  }

  /** The form of an action the user no longer has (a second tab, the back button): what is due now. */
  async function pending(step: StepContext, action: RequiredAction): Promise<RequiredActionsUser | undefined> {
    const user = await userOf(step);
    if ((await nextAction(step, user)) === action) return user;
    await show(step, user);
    return undefined;
  }

  return {
    name: 'required_actions',
    prompt,
    view: 'required-password',
    show: (step) => show(step),
    actions: {
      async 'update-password'(step, form) {
        const user = await pending(step, 'update_password');
        if (user === undefined) return;
        const password = form.password ?? '';
        if (password === '') return passwordPage(step, step.t('required_action.password_missing'));
        if (password !== (form.confirm ?? '')) return passwordPage(step, step.t('password_reset.mismatch'));
        if (await deps.accounts.isCurrentPassword(user.id, password)) return passwordPage(step, step.t('required_action.password_same'));
        try {
          await deps.accounts.setPassword(user.id, password);
        } catch (error) {
          if (!(error instanceof PasswordPolicyError)) throw error;
          return passwordPage(step, unmetRequirements(step.t, error.unmet));
        }
        const signedOut = form.sign_out_others === 'yes' ? await deps.signOutOthers(user.id, step.details.session?.uid) : 0;
        await completed(step, user, 'update_password', { signedOutSessions: signedOut });
        return step.finish({});
      },
      /** configure_totp: the first code of the new app (the enrolment page posts here, as the second-factor step's does). */
      async enrol(step, form) {
        const user = await pending(step, 'configure_totp');
        if (user === undefined) return;
        const recoveryCodes = await deps.totp.confirm(step, user.id, form.code ?? '');
        if (recoveryCodes === undefined) return deps.totp.page(step, user.id, { error: 'mfa.enrol_failed' });
        await deps.syncEnrolment(user.id);
        await completed(step, user, 'configure_totp');
        // The code just given is this sign-in's second factor: the second-factor step is not asked again.
        return deps.totp.codes(step, recoveryCodes, await step.complete(secondFactorLogin(step, user.id, 'otp')));
      },
      async resend(step) {
        if ((await pending(step, 'verify_email')) === undefined) return;
        return deps.emailConfirmation.resend(step);
      },
      async continue(step) {
        const user = await userOf(step);
        if (user.requiredActions.includes('verify_email') && user.email !== null && !user.emailVerified && mailAvailable()) {
          return deps.emailConfirmation.page(step, { error: 'verify_email.not_yet' });
        }
        // Confirmed (nextAction removes it), or nothing of it left: what is due now.
        return show(step, user);
      },
      async 'update-profile'(step, form) {
        const user = await pending(step, 'update_profile');
        if (user === undefined) return;
        const givenName = (form.given_name ?? '').trim();
        const familyName = (form.family_name ?? '').trim();
        if (givenName === '' || familyName === '') return profilePage(step, user, { givenName, familyName }, step.t('required_action.profile_missing'));
        if (givenName.length > PROFILE_FIELD_MAX || familyName.length > PROFILE_FIELD_MAX) return profilePage(step, user, { givenName, familyName }, step.t('required_action.profile_too_long'));
        await deps.updateNames(user.id, { givenName, familyName });
        await completed(step, user, 'update_profile');
        return step.finish({});
      },
    },
  };
}
