import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { hasHiddenCharacter } from '../../accounts/normalize.ts';
import type { Factors } from '../../mfa/factors.ts';
import { hasSecondFactor, mfaRequirement, type MfaPolicy } from '../../mfa/policy.ts';
import { clientFlag } from '../../oidc/client-metadata.ts';
import { essentialAcrs } from '../../oidc/interaction-policy.ts';
import { passkeyChallenge, type Passkeys } from '../../mfa/passkeys.ts';
import { DEFAULT_TOTP } from '../../mfa/totp.ts';
import { embedJson } from './embed.ts';
import { earlierMethods, secondFactorLogin, totpEnrolmentPages } from './totp-enrolment.ts';
import type { InteractionResults, SignInStep, StepContext } from './step.ts';

const { Check, Prompt } = interactionPolicy;
/** RFC 8176 methods of a passkey: `hwk` (bound to its device) and `swk` (synced). */
const PASSKEY_AMR = new Set(['hwk', 'swk']);

export interface SecondFactorDeps {
  readonly factors: Factors;
  /** Who must use a second factor (a runtime setting), read with each check. */
  readonly policy: () => Promise<MfaPolicy>;
  /** The name authenticator apps show next to the code (the brand name). */
  readonly issuerName: string;
  /** What the app lists the entry as (the username). */
  readonly accountLabel: (accountId: string) => Promise<string>;
  /** An otpauth:// URI as an SVG QR code (rendered here, no outside image service). */
  readonly qrSvg: (text: string) => Promise<string>;
  /** Passkeys as a second factor (and as the factor a user enrols instead of an app). */
  readonly passkeys: Passkeys;
  readonly challengeKey: Buffer;
  /** Records on the user that they now have a second factor (src/mfa/enrolment.ts). */
  readonly syncEnrolment: (userId: string) => Promise<boolean>;
}

async function profileOf(ctx: KoaContextWithOIDC): Promise<{ roles: string[]; groups: string[] }> {
  const claims: Record<string, unknown> = ctx.oidc.account === undefined ? {} : await ctx.oidc.account.claims('userinfo', 'openid roles groups', {}, []);
  const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
  return { roles: list(claims.roles), groups: list(claims.groups) };
}

/**
 * The second factor after the password: a code from an authenticator app (TOTP) or a recovery
 * code. Its prompt `mfa` is due when the session has no second factor yet and the user has one
 * enrolled, or the policy requires one (role, group, client, acr_values) — then a user without
 * one enrols on the spot. Success re-logs the session in with amr + otp/mfa and the MFA acr.
 */
/**
 * `afterSecondFactor`: the login extension's say once a factor is passed (a pending upstream
 * identity is linked only then, src/interactions/upstream.ts).
 */
export function secondFactorStep(deps: SecondFactorDeps, afterSecondFactor?: (step: StepContext, result: InteractionResults) => Promise<InteractionResults>): SignInStep {
  const { factors, passkeys } = deps;
  const enrolment = totpEnrolmentPages(deps);
  /** Whether the user has any second factor: an authenticator app or a passkey. */
  const enrolled = async (accountId: string) => (await factors.status(accountId)).enrolled || (await passkeys.list(accountId)).length > 0;

  const prompt = () =>
    new Prompt(
      { name: 'mfa', requestable: false },
      (ctx) => ({ transient: ctx.oidc.session?.transient === true }),
      new Check('mfa_enrolled', 'the user has a second factor and has not used it in this session', (ctx) => {
        const accountId = ctx.oidc.session?.accountId;
        if (accountId === undefined || hasSecondFactor(ctx.oidc.session?.amr)) return Check.NO_NEED_TO_PROMPT;
        // The flag rides on the account profile (src/oidc/accounts.ts): no store read here.
        return (ctx.oidc.account as { secondFactor?: boolean } | undefined)?.secondFactor === true ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
      }),
      new Check('mfa_required', 'a second factor is required for this user, client or request', async (ctx) => {
        const accountId = ctx.oidc.session?.accountId;
        if (accountId === undefined || hasSecondFactor(ctx.oidc.session?.amr)) return Check.NO_NEED_TO_PROMPT;
        const acrValues = ctx.oidc.params?.acr_values;
        const required = mfaRequirement(await deps.policy(), {
          amr: ctx.oidc.session?.amr,
          ...(await profileOf(ctx)),
          clientRequires: clientFlag(ctx.oidc.client, 'require_mfa'),
          acrValues: typeof acrValues === 'string' ? acrValues : undefined,
          essentialAcrs: essentialAcrs(ctx),
        });
        return required === undefined ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      }),
    );

  const accountOf = (step: StepContext): string => {
    const accountId = step.details.session?.accountId;
    if (accountId === undefined) step.koa.throw(400, 'There is no sign-in to confirm.');
    return accountId;
  };

  /**
   * Whether a passkey can be the second factor: not when one already was the first (a passkey
   * sign-in without user verification). The same key, or another one, touched again is the same
   * kind of factor again; it would make a key alone (lost, stolen) a two-factor sign-in.
   */
  const passkeyCounts = (step: StepContext) => {
    const earlier = earlierMethods(step);
    // An upstream provider's own key (amr of a federated sign-in) is not one of the user's here.
    return earlier.includes('fed') || !earlier.some((method) => PASSKEY_AMR.has(method));
  };

  /** The login result after a second factor: earlier methods kept, the MFA acr asserted. */
  async function loginResult(step: StepContext, accountId: string, method: 'otp' | 'hwk' | 'swk') {
    const result = secondFactorLogin(step, accountId, method);
    return afterSecondFactor === undefined ? result : afterSecondFactor(step, result);
  }

  async function verifyPage(step: StepContext, error?: string) {
    const accountId = accountOf(step);
    const holdsPasskey = (await passkeys.list(accountId)).length > 0;
    // Not on an issuer whose host is an IP address (no browser uses a passkey there), even to a user who holds one.
    const hasPasskey = passkeys.usable && passkeyCounts(step) && holdsPasskey;
    const challenge = passkeyChallenge(deps.challengeKey, step.details.uid, 'second-factor');
    // The user's own app: an imported one may show 8 digits or change every 60 seconds.
    const app = (await factors.status(accountId)).totpParameters;
    // Without an app: the passkey or a recovery code (where passkeys cannot work, why only the code).
    const lead =
      app !== null ? step.t('mfa.verify_lead_digits', { digits: String(app.digits) })
      : hasPasskey ? step.t('mfa.verify_lead_passkey')
      : holdsPasskey && !passkeys.usable ? step.t('mfa.verify_lead_passkey_unavailable')
      : step.t('mfa.verify_lead');
    await step.render(
      {
        title: step.t('mfa.verify_title'),
        lead,
        error: error === undefined ? undefined : step.t(error, { period: String((app ?? DEFAULT_TOTP).period) }),
        passkey: hasPasskey ? embedJson(await passkeys.authenticationOptions(accountId, challenge)) : undefined,
      },
      { status: error ? 400 : 200 },
    );
  }

  async function enrolPage(step: StepContext, accountId: string, error?: string) {
    const passkey = passkeys.usable
      ? embedJson(await passkeys.registrationOptions({ id: accountId, username: await deps.accountLabel(accountId) }, passkeyChallenge(deps.challengeKey, step.details.uid, 'register')))
      : undefined;
    await enrolment.page(step, accountId, { passkey, error });
  }

  const codesPage = enrolment.codes;

  return {
    name: 'mfa',
    prompt,
    view: 'mfa-verify',
    async show(step) {
      const accountId = accountOf(step);
      if (await enrolled(accountId)) return verifyPage(step);
      return enrolPage(step, accountId);
    },
    actions: {
      async verify(step, form) {
        const accountId = accountOf(step);
        const result = await factors.verify(accountId, form.code ?? '', step.koa.ip);
        if (!result.ok) return verifyPage(step, 'mfa.code_failed');
        const resume = await step.complete(await loginResult(step, accountId, 'otp'));
        if (result.method === 'recovery_code') return codesPage(step, undefined, resume, result.recoveryCodesLeft);
        return step.redirect(resume);
      },
      async enrol(step, form) {
        const accountId = accountOf(step);
        if (await enrolled(accountId)) return verifyPage(step);
        const recoveryCodes = await enrolment.confirm(step, accountId, form.code ?? '');
        if (recoveryCodes === undefined) return enrolPage(step, accountId, 'mfa.enrol_failed');
        await deps.syncEnrolment(accountId);
        return codesPage(step, recoveryCodes, await step.complete(await loginResult(step, accountId, 'otp')));
      },
      async passkey(step, form) {
        const accountId = accountOf(step);
        if (!passkeys.usable) return verifyPage(step, 'passkey.unavailable');
        if (!passkeyCounts(step)) return verifyPage(step, 'passkey.failed');
        const checked = await passkeys.authenticate(form.response, passkeyChallenge(deps.challengeKey, step.details.uid, 'second-factor'), accountId);
        if (!checked.ok) return verifyPage(step, 'passkey.failed');
        return step.finish(await loginResult(step, accountId, checked.method));
      },
      /** Enrolment with a passkey instead of an app: the new passkey is the second factor, recovery codes follow. */
      async 'passkey-register'(step, form) {
        const accountId = accountOf(step);
        if (await enrolled(accountId)) return verifyPage(step);
        if (!passkeys.usable) return enrolPage(step, accountId, 'passkey.unavailable');
        // The account page's rule for a passkey's name (own-sign-in-methods.ts): it is shown in sentences and lists.
        const name = (form.name ?? '').trim();
        if (hasHiddenCharacter(name)) return enrolPage(step, accountId, 'passkey.invalid_name');
        const challenge = passkeyChallenge(deps.challengeKey, step.details.uid, 'register');
        if (!(await passkeys.register(accountId, form.response, challenge, name))) return enrolPage(step, accountId, 'passkey.failed');
        await deps.syncEnrolment(accountId);
        const codes = await factors.regenerateRecoveryCodes(accountId);
        return codesPage(step, codes, await step.complete(await loginResult(step, accountId, 'hwk')));
      },
      async regenerate(step) {
        // Only once this interaction holds a second factor (after a recovery code was used).
        const accountId = accountOf(step);
        const done = step.details.result?.login;
        if (done?.accountId !== accountId || !hasSecondFactor(done.amr as string[] | undefined)) return step.koa.throw(400, 'Sign in first.');
        return codesPage(step, await factors.regenerateRecoveryCodes(accountId), step.details.returnTo, undefined, true);
      },
    },
  };
}
