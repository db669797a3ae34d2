import type { Factors } from '../../mfa/factors.ts';
import { totpUri } from '../../mfa/totp.ts';
import { ACR } from '../../oidc/acr.ts';
import type { InteractionResults, StepContext } from './step.ts';

export interface TotpEnrolmentDeps {
  readonly factors: Factors;
  /** The name authenticator apps show next to the code (the brand name). */
  readonly issuerName: string;
  /** What the app lists the entry as (the username). */
  readonly accountLabel: (accountId: string) => Promise<string>;
  /** An otpauth:// URI as an SVG QR code. */
  readonly qrSvg: (text: string) => Promise<string>;
}

/**
 * Setting up an authenticator app during a sign-in: the enrolment page (QR code, key, first
 * code, posting to the step's `enrol` action) and the recovery codes that follow. Shared by the
 * second-factor step (a policy requires a factor) and the required action `configure_totp`.
 */
export interface TotpEnrolmentPages {
  /** `passkey`: registration options, to offer a passkey instead of an app (the second-factor step). */
  page(step: StepContext, accountId: string, extra?: { readonly passkey?: string | undefined; readonly error?: string | undefined }): Promise<void>;
  /** Checks the first code of the app being set up: the new recovery codes, or undefined when the code did not work. */
  confirm(step: StepContext, accountId: string, code: string): Promise<readonly string[] | undefined>;
  /** `replaced`: the codes shown take the place of earlier ones (regenerated), which the page then says no longer work. */
  codes(step: StepContext, codes: readonly string[] | undefined, continueUrl: string, left?: number, replaced?: boolean): Promise<void>;
}

export function totpEnrolmentPages(deps: TotpEnrolmentDeps): TotpEnrolmentPages {
  return {
    async page(step, accountId, { passkey, error } = {}) {
      const { secret, parameters } = await deps.factors.beginTotp(accountId);
      const uri = totpUri(secret, await deps.accountLabel(accountId), deps.issuerName, parameters);
      await step.render(
        {
          title: step.t('mfa.enrol_title'),
          qr: await deps.qrSvg(uri),
          passkey,
          secret: secret.replace(/(.{4})/g, '$1 ').trim(),
          // New apps are enrolled with the OTP policy's parameters (src/settings/otp.ts).
          digits: String(parameters.digits),
          error: error === undefined ? undefined : step.t(error, { period: String(parameters.period) }),
        },
        { view: 'mfa-enrol', status: error ? 400 : 200 },
      );
    },
    async confirm(step, accountId, code) {
      const result = await deps.factors.confirmTotp(accountId, code, step.koa.ip);
      return result.ok ? result.recoveryCodes : undefined;
    },
    async codes(step, codes, continueUrl, left, replaced = false) {
      await step.render({ title: step.t('mfa.codes_title'), codes, left, continueUrl, replaced }, { view: 'mfa-recovery-codes' });
    },
  };
}

/** The methods this sign-in already used (the first factor). */
export const earlierMethods = (step: StepContext): readonly string[] => step.previous.login?.amr ?? step.details.session?.amr ?? ['pwd'];

/** The login result after a second factor (`otp`, or a passkey's `hwk`/`swk`): earlier methods kept, the MFA acr asserted. */
export function secondFactorLogin(step: StepContext, accountId: string, method: 'otp' | 'hwk' | 'swk'): InteractionResults {
  const amr = [...new Set([...earlierMethods(step).filter((m) => m !== 'mfa'), method, 'mfa'])];
  const remember = step.previous.login?.remember ?? step.details.prompt.details.transient !== true;
  return { ...step.previous, login: { accountId, remember, amr, acr: ACR.multiFactor } };
}
