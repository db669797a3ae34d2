import { loginResult } from '../../oidc/acr.ts';
import { passkeyChallenge, type Passkeys } from '../../mfa/passkeys.ts';
import { ACR } from '../../oidc/acr.ts';
import { signInName } from '../sign-in-fields.ts';
import { embedJson } from './embed.ts';
import type { RegistrationPart } from './registration.ts';
import type { InteractionResults, SignInStep, StepAction, StepContext } from './step.ts';

/**
 * Another way to answer the login prompt on the same page (e.g. upstream identity providers,
 * src/interactions/upstream.ts): more on the page, its own actions, and a say before and after
 * the password check.
 */
export interface LoginExtension {
  /** Added to the sign-in page's model. */
  model(step: StepContext): Promise<Record<string, unknown>>;
  /** Before the page is shown; resolves true when it answered instead (e.g. a redirect on `idp_hint`). */
  intercept?(step: StepContext): Promise<boolean>;
  /** Before the password is checked; resolves true when it answered instead (home-realm discovery by email domain). */
  beforePassword?(step: StepContext, login: string): Promise<boolean>;
  /**
   * After the password was accepted: a result to finish with instead of the usual one (e.g. a
   * pending upstream identity is now linked), `answered` when it answered itself, or undefined.
   */
  afterPassword?(step: StepContext, accountId: string, remember: boolean): Promise<InteractionResults | 'answered' | undefined>;
  /**
   * A second factor was passed (src/interactions/steps/second-factor.ts): `result` is the sign-in
   * it finishes with; resolves to that or another (e.g. a pending upstream identity linked now).
   */
  afterSecondFactor?(step: StepContext, result: InteractionResults): Promise<InteractionResults>;
  readonly actions: Readonly<Record<string, StepAction>>;
}

export type PasswordCheck = { readonly ok: true; readonly sub: string } | { readonly ok: false };

export interface Authenticator {
  /** One generic failure for unknown user, wrong password, locked or disabled account. May throw HashQueueFullError. */
  authenticate(login: string, password: string, ip: string, clientId: string): Promise<PasswordCheck>;
  /** A sign-in form is being shown; a password may follow (the hashing pool starts a worker). */
  prepare?(): void;
  /** Whether a user may sign in at all (exists, not disabled): a passkey sign-in has no password check to say so. */
  isActive(userId: string): Promise<boolean>;
  /** A passwordless sign-in succeeded: the user's last sign-in (a password sign-in notes its own). */
  recordSignIn(userId: string): Promise<void>;
}

/** Passwordless sign-in with a discoverable passkey on the same page. */
export interface PasskeySignIn {
  readonly passkeys: Passkeys;
  readonly challengeKey: Buffer;
}

/** "Forgot password?" names this sign-in, so the reset pages can lead back to it. */
function withInteraction(href: string | undefined, uid: string): string | undefined {
  return href === undefined ? undefined : `${href}?interaction=${encodeURIComponent(uid)}`;
}

/** The login prompt answered with a username (or email) and password: amr `pwd`. */
/**
 * `forgotHref`: the "Forgot password?" link under the form (src/interactions/password-reset-routes.ts);
 * `registration`: "Create account" and its page (src/interactions/steps/registration.ts);
 * `extension`: other ways to sign in on the same page (upstream identity providers).
 */
export function passwordStep(authenticator: Authenticator, acr: string, passkey?: PasskeySignIn, forgotHref?: () => Promise<string | undefined>, registration?: RegistrationPart, extension?: LoginExtension): SignInStep {
  const challenge = (step: StepContext) => passkeyChallenge(passkey!.challengeKey, step.details.uid, 'login');

  async function page(step: StepContext, form: { login: string; remember: boolean; error?: string }) {
    authenticator.prepare?.();
    await step.render(
      {
        title: step.t('login.title'),
        login: form.login,
        remember: form.remember,
        // Runtime settings (src/settings/): each sign-in page shows what is on now.
        forgotHref: withInteraction(await forgotHref?.(), step.details.uid),
        registration: (await registration?.linked()) === true,
        error: form.error === undefined ? undefined : step.t(form.error),
        passkey: passkey === undefined || !passkey.passkeys.usable ? undefined : embedJson(await passkey.passkeys.authenticationOptions(undefined, challenge(step))),
        ...(extension === undefined ? {} : await extension.model(step)),
      },
    );
  }

  return {
    name: 'login',
    view: 'login',
    show: async (step) => {
      if ((await extension?.intercept?.(step)) === true) return;
      const hint = step.details.params.login_hint;
      return page(step, { login: typeof hint === 'string' ? hint : '', remember: false });
    },
    ...(registration === undefined ? {} : { pages: { register: registration.page } }),
    actions: {
      ...extension?.actions,
      ...(registration === undefined ? {} : { register: async (step, form) => void (await registration.action(step, form)) }),
      async login(step, form) {
        const login = signInName(form);
        const remember = form.rememberMe === 'on' || form.remember === 'yes';
        if ((await extension?.beforePassword?.(step, login)) === true) return;
        const result = await authenticator.authenticate(login, form.password ?? '', step.koa.ip, String(step.details.params.client_id));
        if (!result.ok) return page(step, { login, remember, error: 'login.failed' });
        const instead = await extension?.afterPassword?.(step, result.sub, remember);
        if (instead === 'answered') return;
        return step.finish(instead ?? { login: loginResult({ accountId: result.sub, remember, amr: ['pwd'], acr }) });
      },
      // A discoverable passkey instead of username and password; with user verification it
      // counts as two factors (possession + PIN or biometrics).
      async 'passkey-login'(step, form) {
        if (passkey === undefined) return step.koa.throw(404);
        // A page from before the issuer moved to an IP address, or a hand-made post: say why, not "did not work".
        if (!passkey.passkeys.usable) return page(step, { login: '', remember: false, error: 'passkey.unavailable' });
        const checked = await passkey.passkeys.authenticate(form.response, challenge(step));
        if (!checked.ok || !(await authenticator.isActive(checked.userId))) return page(step, { login: '', remember: false, error: 'passkey.failed' });
        const amr = checked.userVerified ? [checked.method, 'mfa'] : [checked.method];
        await authenticator.recordSignIn(checked.userId);
        return step.finish({ login: loginResult({ accountId: checked.userId, remember: true, amr, acr: checked.userVerified ? ACR.multiFactor : ACR.singleFactor }) });
      },
    },
  };
}
