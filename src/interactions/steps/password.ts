import { loginResult } from '../../oidc/acr.ts';
import type { SignInStep, StepContext } from './step.ts';

export type PasswordCheck = { readonly ok: true; readonly sub: string } | { readonly ok: false };

export interface Authenticator {
  /** One generic failure for unknown user, wrong password, locked or disabled account. May throw HashQueueFullError. */
  authenticate(login: string, password: string, ip: string): Promise<PasswordCheck>;
  /** A sign-in form is being shown; a password may follow (the hashing pool starts a worker). */
  prepare?(): void;
}

/** The login prompt answered with a username (or email) and password: amr `pwd`. */
export function passwordStep(authenticator: Authenticator, acr: string): SignInStep {
  async function page(step: StepContext, form: { login: string; remember: boolean; error?: string }) {
    authenticator.prepare?.();
    await step.render({
      title: step.t('login.title'),
      login: form.login,
      remember: form.remember,
      error: form.error === undefined ? undefined : step.t(form.error),
    });
  }

  return {
    name: 'login',
    view: 'login',
    show: (step) => {
      const hint = step.details.params.login_hint;
      return page(step, { login: typeof hint === 'string' ? hint : '', remember: false });
    },
    actions: {
      async login(step, form) {
        const login = (form.login ?? '').trim();
        const remember = form.remember === 'yes';
        const result = await authenticator.authenticate(login, form.password ?? '', step.koa.ip);
        if (!result.ok) return page(step, { login, remember, error: 'login.failed' });
        return step.finish({ login: loginResult({ accountId: result.sub, remember, amr: ['pwd'], acr }) });
      },
    },
  };
}
