import { InvalidUserError, PasswordPolicyError } from '../../accounts/errors.ts';
import { domainKey, emailKey, hasHiddenCharacter, validEmail } from '../../accounts/normalize.ts';
import { shortened } from '../../accounts/shortened.ts';
import { checkPassword, type PasswordPolicy } from '../../accounts/password-policy.ts';
import { usernameCandidates } from '../../accounts/self-registration.ts';
import { passwordRequirements, unmetRequirements } from '../password-rules.ts';
import type { Registration } from '../../accounts/self-registration.ts';
import type { AttemptLimiter } from '../../limits/attempt-limits.ts';
import type { Locale } from '../i18n.ts';
import type { StepAction, StepContext } from './step.ts';

export interface RegistrationDeps {
  /** Undefined without SMTP: the page says registration is not available, and the sign-in page has no link. */
  readonly register: ((input: Registration<Locale>) => Promise<void>) | undefined;
  /** The password policy in force (a runtime setting), read for each page and form. */
  readonly policy: () => Promise<PasswordPolicy>;
  /**
   * Whether registration is on, and the lowercased domains an address must be at (empty = any):
   * runtime settings (src/settings/). While it is off the pages answer 404 and nothing links to them.
   */
  readonly settings: () => Promise<{ readonly enabled: boolean; readonly domains: readonly string[] }>;
  /** Registrations per IP, and emails per address (silently: the answer stays the same). */
  readonly limits: { readonly ip: AttemptLimiter; readonly email: AttemptLimiter };
  /** The hosted pages' base path (routes table), for the way back to the sign-in. */
  readonly interactionPath: string;
  readonly onError: (error: unknown) => void;
}

/** Where "Sign in" leads from the form and from the emailed link: this sign-in by default. */
export interface RegistrationOptions {
  readonly signInHref?: string;
}

/** What the login step gains with self-registration: a page, an action and the link to them. */
export interface RegistrationPart {
  /** Whether the sign-in page shows "Create account" now (and `prompt=create` is honoured). */
  readonly linked: () => Promise<boolean>;
  /** Whether mail can go out at all (SMTP configured): without it registration is never offered. */
  readonly available: boolean;
  /** The hosted pages' base path (routes table). */
  readonly interactionPath: string;
  readonly page: (step: StepContext, options?: RegistrationOptions) => Promise<void>;
  /** Resolves to whether the form was accepted (the "check your email" page was shown). */
  readonly action: (step: StepContext, form: Parameters<StepAction>[1], options?: RegistrationOptions) => Promise<boolean>;
}

interface Form {
  readonly name: string;
  readonly email: string;
  /** A locale key, or (a broken password policy) the message itself. */
  readonly error?: string | { readonly text: string };
  readonly status?: number;
  readonly signInHref?: string | undefined;
}

/**
 * Self-registration inside the sign-in (GATEHOUSE_SELF_REGISTRATION): a form, then one answer
 * whatever the address — "check your email" — while the work (a confirmation link for a new
 * address, a note to the owner of a taken one) happens after the answer. The link leads back
 * to this sign-in.
 */
export function registration(deps: RegistrationDeps): RegistrationPart {
  const signInHref = (step: StepContext) => `${deps.interactionPath}/${encodeURIComponent(step.details.uid)}`;

  /** The domains in force; a 404 while registration is off (the link is gone, the URL refuses). */
  async function domainsOrRefuse(step: StepContext): Promise<readonly string[]> {
    const { enabled, domains } = await deps.settings();
    if (!enabled) step.koa.throw(404, 'Self-registration is not available.');
    return domains;
  }

  async function page(step: StepContext, form: Form, domains: readonly string[]) {
    const policy = await deps.policy();
    const { minLength } = policy;
    await step.render(
      {
        title: step.t('register.title'),
        available: deps.register !== undefined,
        name: form.name,
        email: form.email,
        minLength,
        requirements: passwordRequirements(step.t, policy),
        domains: domains.join(', '),
        signInHref: form.signInHref ?? signInHref(step),
        error: form.error === undefined ? undefined : typeof form.error === 'string' ? step.t(form.error, { min: String(minLength), domains: domains.join(', ') }, minLength) : form.error.text,
        // The refusal is about the name: that field is marked and described by it (not the email).
        nameInvalid: form.error === 'register.invalid_name',
      },
      { view: 'register', status: form.status ?? (form.error === undefined ? 200 : 400) },
    );
  }

  /** The one error a form may show: all of them depend only on what was typed, never on who exists. */
  function formError(step: StepContext, name: string, email: string, password: string, confirm: string, domains: readonly string[], policy: PasswordPolicy): Form['error'] {
    // The name other apps show (the `name` claim): no control or invisible format character, as on the account page.
    if (hasHiddenCharacter(name)) return 'register.invalid_name';
    try {
      validEmail(email);
    } catch (error) {
      if (error instanceof InvalidUserError) return 'register.invalid_email';
      throw error;
    }
    // By domainKey: an internationalized domain is allowed in either form (bücher.example, xn--bcher-kva.example).
    const domain = domainKey(email.slice(email.lastIndexOf('@') + 1));
    if (domains.length > 0 && !domains.some((allowed) => domainKey(allowed) === domain)) return 'register.domain';
    if (password !== confirm) return 'password_reset.mismatch';
    try {
      // The account does not exist yet: its username will come from the address (self-registration.ts).
      checkPassword(password, policy, { username: usernameCandidates(email)[0], email });
    } catch (error) {
      if (error instanceof PasswordPolicyError) return { text: unmetRequirements(step.t, error.unmet) };
      throw error;
    }
    return undefined;
  }

  return {
    linked: async () => deps.register !== undefined && (await deps.settings()).enabled,
    available: deps.register !== undefined,
    interactionPath: deps.interactionPath,
    page: async (step, options = {}) => page(step, { name: '', email: '', signInHref: options.signInHref }, await domainsOrRefuse(step)),
    async action(step, form, options = {}) {
      const back = options.signInHref ?? signInHref(step);
      const domains = await domainsOrRefuse(step);
      const register = deps.register;
      // On without SMTP: the page says registration is not available.
      if (register === undefined) return page(step, { name: '', email: '', signInHref: back }, domains).then(() => false);
      // By whole characters: an emoji at the boundary is not split into a lone surrogate.
      const name = shortened((form.name ?? '').trim(), 256).trim();
      const email = (form.email ?? '').trim().normalize('NFKC');
      const password = form.password ?? '';
      const error = formError(step, name, email, password, form.confirm ?? '', domains, await deps.policy());
      if (error !== undefined) return page(step, { name, email, error, signInHref: back }, domains).then(() => false);
      const ip = step.koa.ip;
      if ((await deps.limits.ip.retryAfter(ip)) > 0) return page(step, { name, email, error: 'register.too_many', status: 429, signInHref: back }, domains).then(() => false);
      await deps.limits.ip.fail(ip);
      const key = emailKey(email);
      if ((await deps.limits.email.retryAfter(key)) === 0) {
        await deps.limits.email.fail(key);
        register({ email, name: name === '' ? null : name, password, locale: step.locale, returnTo: back }).catch(deps.onError);
      }
      await step.render({ title: step.t('register_sent.title'), email, signInHref: back }, { view: 'register-sent' });
      return true;
    },
  };
}
