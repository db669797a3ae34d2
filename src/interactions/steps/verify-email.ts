import { interactionPolicy } from 'oidc-provider';
import type { EmailVerification } from '../../accounts/email-verification.ts';
import type { AttemptLimiter } from '../../limits/attempt-limits.ts';
import type { Locale } from '../i18n.ts';
import type { SignInStep, StepContext } from './step.ts';
import { isolate } from '../breakable.ts';

const { Check, Prompt } = interactionPolicy;

/** Whose unconfirmed address stops a sign-in (GATEHOUSE_REQUIRE_VERIFIED_EMAIL). */
export type VerifiedEmailRule = 'off' | 'self-registered' | 'all';

/**
 * Whether the rule stops this account (the `unverifiedEmail` flag of src/oidc/accounts.ts), for
 * the hosted sign-in and the password grant alike. Only when mail can go out: otherwise the
 * user could never confirm and would be locked out.
 */
export function unverifiedEmailStops(rule: VerifiedEmailRule, unverified: 'self-registered' | 'other' | undefined, mailAvailable: boolean): boolean {
  if (unverified === undefined || rule === 'off' || !mailAvailable) return false;
  return rule === 'all' || unverified === 'self-registered';
}

export interface VerifyEmailDeps {
  /** A runtime setting (src/settings/), read when a sign-in reaches the check. */
  readonly rule: () => Promise<VerifiedEmailRule>;
  readonly verification: EmailVerification<Locale>;
  readonly accounts: { findById(id: string): Promise<{ readonly email: string | null; readonly emailVerified: boolean } | undefined> };
  /** Resends per user. */
  readonly resends: AttemptLimiter;
  /** The hosted pages' base path (routes table): the emailed link leads back to this sign-in. */
  readonly interactionPath: string;
}

/**
 * The sign-in stops after the password until the user confirms their email address, when the
 * rule covers them (self-registered users, or everyone with an address) and email can be sent.
 * The page resends the link; the link's page leads back here, and "Continue" resumes.
 */
export function verifyEmailStep(deps: VerifyEmailDeps): SignInStep {
  const prompt = () =>
    new Prompt(
      { name: 'verify_email', requestable: false },
      new Check('email_unverified', 'the user has not confirmed their email address yet', async (ctx) => {
        // The flag rides on the account profile (src/oidc/accounts.ts) and the rule is cached: no store read here.
        const unverified = (ctx.oidc.account as { unverifiedEmail?: 'self-registered' | 'other' } | undefined)?.unverifiedEmail;
        if (unverified === undefined || !deps.verification.available) return Check.NO_NEED_TO_PROMPT;
        return unverifiedEmailStops(await deps.rule(), unverified, true) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
      }),
    );

  const confirmation = emailConfirmation(deps);

  return {
    name: 'verify_email',
    prompt,
    view: 'verify-email',
    show: (step) => confirmation.page(step),
    actions: {
      resend: (step) => confirmation.resend(step),
      async continue(step) {
        if (!(await confirmation.confirmed(step))) return confirmation.page(step, { error: 'verify_email.not_yet' });
        // The authorization resumes; the policy asks this prompt again only if the address is still unconfirmed.
        return step.finish({});
      },
    },
  };
}

/** The page "confirm your email first" with its resend, for this step and the required action `verify_email` (required-actions.ts). */
export interface EmailConfirmation {
  page(step: StepContext, extra?: { notice?: string; error?: string; status?: number }): Promise<void>;
  /** Mails a new link (limited per user) leading back to this sign-in, and shows the page again. */
  resend(step: StepContext): Promise<void>;
  /** Whether the signed-in user's address is confirmed now. */
  confirmed(step: StepContext): Promise<boolean>;
}

export function emailConfirmation(deps: VerifyEmailDeps): EmailConfirmation {
  const accountOf = (step: StepContext): string => {
    const accountId = step.details.session?.accountId;
    if (accountId === undefined) step.koa.throw(400, 'There is no sign-in to confirm.');
    return accountId;
  };

  async function page(step: StepContext, extra: { notice?: string; error?: string; status?: number } = {}) {
    const user = await deps.accounts.findById(accountOf(step));
    await step.render(
      {
        title: step.t(user?.emailVerified === true ? 'verify_email.done_title' : 'verify_email.title'),
        email: user?.email ?? '',
        verified: user?.emailVerified === true,
        notice: extra.notice === undefined ? undefined : step.t(extra.notice, { email: isolate(user?.email ?? '') }),
        error: extra.error === undefined ? undefined : step.t(extra.error),
      },
      { view: 'verify-email', status: extra.status ?? (extra.error === undefined ? 200 : 400) },
    );
  }

  return {
    page,
    async resend(step) {
      const accountId = accountOf(step);
      if ((await deps.resends.retryAfter(accountId)) > 0) return page(step, { error: 'verify_email.too_many', status: 429 });
      await deps.resends.fail(accountId);
      await deps.verification.send(accountId, step.locale, `${deps.interactionPath}/${encodeURIComponent(step.details.uid)}`);
      return page(step, { notice: 'verify_email.sent' });
    },
    async confirmed(step) {
      return (await deps.accounts.findById(accountOf(step)))?.emailVerified === true;
    },
  };
}
