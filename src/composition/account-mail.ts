import type { Accounts } from '../accounts/accounts.ts';
import { emailChangeNotice } from '../accounts/email-change-notice.ts';
import { createEmailVerification, type EmailVerification } from '../accounts/email-verification.ts';
import type { EmailVerifications, PendingAccount } from '../accounts/email-verifications.ts';
import type { Config } from '../config/load.ts';
import type { Locale } from '../interactions/i18n.ts';
import type { Views } from '../interactions/views.ts';
import type { MailService } from '../mail/mail-service.ts';
import type { AuditTrail } from '../observability/audit-trail.ts';
import type { VerificationSender } from '../operations/users.ts';
import type { GatehouseServices } from '../services.ts';

export interface AddressVerificationDeps {
  readonly config: Pick<Config, 'publicUrl' | 'routes'>;
  readonly services: Pick<GatehouseServices, 'signInSettings'>;
  readonly accounts: Pick<Accounts, 'findById' | 'verifyEmail'>;
  readonly audit: AuditTrail;
  readonly verifications: EmailVerifications;
  readonly mail: MailService<Locale> | undefined;
  /** Creates the account of a confirmed registration link (the server's self-registration; none in the CLI). */
  readonly completeRegistration?: (email: string, pending: PendingAccount) => Promise<{ readonly id: string } | undefined>;
}

/** Email confirmation links (`<public URL><email path>/verify/<token>`), audited; the server's pages and the CLI alike. */
export function addressVerification({ config, services, accounts, audit, verifications, mail, completeRegistration }: AddressVerificationDeps): EmailVerification<Locale> {
  return createEmailVerification<Locale>({
    verifications,
    accounts,
    mail,
    linkBase: `${new URL(config.publicUrl).origin}${config.routes.email}/verify`,
    ttlSeconds: async () => (await services.signInSettings.current()).email_verification_ttl,
    ...(completeRegistration === undefined ? {} : { completeRegistration }),
    onEvent: (event) => audit.record({ type: event.type, actor: { type: 'user', id: event.userId }, target: { type: 'user', id: event.userId } }),
  });
}

export interface AccountMailDeps {
  readonly accounts: Pick<Accounts, 'findById'>;
  readonly views: Pick<Views, 'negotiate'>;
  readonly verification: EmailVerification<Locale>;
  readonly mail: MailService<Locale>;
  readonly now: () => Date;
}

/**
 * The mail the user operations send about an account (src/operations/users.ts): the link that
 * confirms a new or changed address and the notice to the previous one, in the user's own
 * language (their `locale` claim), else English. The server (admin API, console, account page)
 * and the CLI send the same.
 */
export function accountMail({ accounts, views, verification, mail, now }: AccountMailDeps): VerificationSender {
  return {
    send: async (userId, by) => verification.send(userId, views.negotiate((await accounts.findById(userId))?.attributes.locale, undefined), null, by),
    emailChanged: emailChangeNotice<Locale>({ mail, localeOf: (user) => views.negotiate(user.attributes.locale, undefined), now }),
  };
}
