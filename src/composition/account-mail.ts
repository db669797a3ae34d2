import type { Accounts } from '../accounts/accounts.ts';
import { emailChangeNotice } from '../accounts/email-change-notice.ts';
import { createEmailVerification, type AddressChange, type EmailVerification } from '../accounts/email-verification.ts';
import { DuplicateUserError } from '../accounts/errors.ts';
import type { UserAdmin } from '../accounts/user-admin.ts';
import type { User } from '../accounts/accounts.ts';
import type { PendingEmailChanges } from '../operations/own-email-change.ts';
import type { EmailVerifications, PendingAccount } from '../accounts/email-verifications.ts';
import { invitationSender, openInvitations, type Invitations, type InvitationSender } from '../accounts/invitations.ts';
import type { Connection } from 'mongoose';
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
  /** Makes a confirmed pending address change (emailChanges() below); absent (the CLI): such a link confirms nothing. */
  readonly changeEmail?: (userId: string, email: string) => Promise<AddressChange>;
  /** The notice to the previous address once a pending change is made. */
  readonly emailChanged?: (user: User, previousEmail: string) => Promise<boolean>;
}

/** Email confirmation links (`<public URL><email path>/verify/<token>`), audited; the server's pages and the CLI alike. */
export function addressVerification({ config, services, accounts, audit, verifications, mail, completeRegistration, changeEmail, emailChanged }: AddressVerificationDeps): EmailVerification<Locale> {
  return createEmailVerification<Locale>({
    verifications,
    accounts,
    mail,
    linkBase: `${new URL(config.publicUrl).origin}${config.routes.email}/verify`,
    ttlSeconds: async () => (await services.signInSettings.current()).email_verification_ttl,
    ...(completeRegistration === undefined ? {} : { completeRegistration }),
    ...(changeEmail === undefined ? {} : { changeEmail }),
    ...(emailChanged === undefined ? {} : { emailChanged }),
    onEvent: (event) =>
      audit.record({
        type: event.type,
        actor: { type: 'user', id: event.userId },
        target: { type: 'user', id: event.userId },
        ...(event.type === 'user.email_changed' ? { details: { previousEmailNotified: event.previousEmailNotified } } : {}),
      }),
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

export interface EmailChangesDeps {
  readonly accounts: Pick<Accounts, 'findById'>;
  readonly users: Pick<UserAdmin, 'update'>;
  readonly views: Pick<Views, 'negotiate'>;
  readonly verifications: EmailVerifications;
  readonly mail: MailService<Locale>;
  readonly now: () => Date;
}

/**
 * A user's own address changes, pending until confirmed (src/operations/own-email-change.ts):
 * `pending` for the account page, `make` for the link (the address becomes the user's, verified,
 * unless another account took it meanwhile: the unique index decides), `notice` for the old address.
 */
export function emailChanges({ accounts, users, views, verifications, mail, now }: EmailChangesDeps) {
  const notice = emailChangeNotice<Locale>({ mail, localeOf: (user) => views.negotiate(user.attributes.locale, undefined), now });
  return {
    pending: (verification: EmailVerification<Locale>): PendingEmailChanges => ({
      request: async (userId, email) => verification.requestChange(userId, email, views.negotiate((await accounts.findById(userId))?.attributes.locale, undefined)),
      pending: (userId) => verifications.pendingChange(userId),
      cancel: (userId) => verifications.cancelChange(userId),
    }),
    async make(userId: string, email: string): Promise<AddressChange> {
      const before = await accounts.findById(userId);
      if (before === undefined || before.disabled) return { kind: 'gone' };
      try {
        const user = await users.update(userId, { email, emailVerified: true });
        return { kind: 'changed', user, previousEmail: before.email };
      } catch (error) {
        if (error instanceof DuplicateUserError && error.field === 'email') return { kind: 'taken' };
        throw error;
      }
    },
    notice: (user: User, previousEmail: string): Promise<boolean> =>
      notice(user, previousEmail, 'self').then(
        () => true,
        () => false,
      ),
  };
}

export interface InvitationMailDeps {
  readonly config: Pick<Config, 'publicUrl' | 'routes'>;
  readonly services: Pick<GatehouseServices, 'signInSettings'>;
  readonly accounts: Pick<Accounts, 'findById'>;
  readonly views: Pick<Views, 'negotiate'>;
  readonly mongo: Connection;
  readonly mail: MailService<Locale> | undefined;
  readonly now: () => number;
}

/**
 * Invitations to set a password (src/accounts/invitations.ts): their links' store, and — with
 * SMTP — the sender the admin API, the console and the CLI use, mailing
 * `<public URL><password path>/invitation/<token>` in the user's language, else English.
 */
export async function invitationMail({ config, services, accounts, views, mongo, mail, now }: InvitationMailDeps): Promise<{ invitations: Invitations; sender: InvitationSender | undefined }> {
  const ttlSeconds = async () => (await services.signInSettings.current()).invitation_ttl;
  const invitations = await openInvitations({ mongo, holder: (userId) => accounts.findById(userId), ttlSeconds, now });
  const sender =
    mail === undefined
      ? undefined
      : invitationSender<Locale>({
          accounts,
          invitations,
          linkBase: `${new URL(config.publicUrl).origin}${config.routes.password}/invitation`,
          ttlSeconds,
          localeOf: (user) => views.negotiate(user.attributes.locale, undefined),
          mail,
        });
  return { invitations, sender };
}
