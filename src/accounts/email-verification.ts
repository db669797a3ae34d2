import type { Accounts, User } from './accounts.ts';
import type { ChangedBy } from './email-change-notice.ts';
import type { EmailVerifications, PendingAccount, VerificationTicket } from './email-verifications.ts';

/** The one mail this service sends (src/mail/mail-service.ts provides it). */
export interface VerificationMailer<L extends string> {
  send(kind: 'email_verification', to: string, locale: L, model: Readonly<Record<string, unknown>>): Promise<void>;
}

export type VerificationEvent =
  | { readonly type: 'user.email_verification_sent'; readonly userId: string }
  | { readonly type: 'user.email_verified'; readonly userId: string }
  | { readonly type: 'user.email_changed'; readonly userId: string; readonly previousEmailNotified: boolean }
  | { readonly type: 'user.email_change_taken'; readonly userId: string };

/** What confirming a pending address change did (the account's previous address, for the notice). */
export type AddressChange = { readonly kind: 'changed'; readonly user: User; readonly previousEmail: string | null } | { readonly kind: 'taken' } | { readonly kind: 'gone' };

export interface EmailVerificationDeps<L extends string> {
  readonly verifications: EmailVerifications;
  readonly accounts: Pick<Accounts, 'findById' | 'verifyEmail'>;
  /** Undefined without SMTP: nothing can be verified by email. */
  readonly mail: VerificationMailer<L> | undefined;
  /** Absolute URL the token is appended to (`<email path>/verify`, from GATEHOUSE_ISSUER). */
  readonly linkBase: string;
  /** How long links work (a runtime setting): the email says it. */
  readonly ttlSeconds: () => Promise<number>;
  /** Creates the account of a confirmed registration link (src/accounts/self-registration.ts). */
  readonly completeRegistration?: (email: string, pending: PendingAccount) => Promise<{ readonly id: string } | undefined>;
  /**
   * Makes a confirmed pending change: the address becomes the user's, verified — unless another
   * account holds it by now (`taken`) or the user is gone or disabled.
   */
  readonly changeEmail?: (userId: string, email: string) => Promise<AddressChange>;
  /** Tells the previous address that the change took effect (email-change-notice.ts); whether it was sent. */
  readonly emailChanged?: (user: User, previousEmail: string) => Promise<boolean>;
  readonly onEvent?: (event: VerificationEvent) => void;
}

export type SendOutcome = 'sent' | 'no_email' | 'already_verified' | 'no_mail' | 'unknown_user';

export interface EmailVerification<L extends string> {
  /** Whether verification mail can be sent at all (SMTP configured). */
  readonly available: boolean;
  /**
   * Emails the user a single-use link that confirms their current address. `returnTo` is a path
   * of the sign-in the person came from, offered after confirming. `by`: whether the person asked
   * for it (signing in, their account page) or an operator did (a user created or changed by an
   * administrator): the mail's last line tells them which, not "if you did not ask for this" to
   * someone who never did.
   */
  send(userId: string, locale: L, returnTo?: string | null, by?: ChangedBy): Promise<SendOutcome>;
  /**
   * A user's own change of address (the account page): the new address is pending, the account
   * keeps its current one, and the new one gets a link that makes the change. A newer request
   * replaces an older one (its link stops working).
   */
  requestChange(userId: string, email: string, locale: L): Promise<SendOutcome>;
  /** Whether the link works (shows the confirmation button); consumes nothing. */
  check(token: string): Promise<VerificationTicket | undefined>;
  /**
   * Uses the link: the address is verified if it is still the user's, or a registration's account
   * is created with it. Resolves to the user, or undefined when the link or the address no longer works.
   */
  confirm(token: string): Promise<{ readonly ticket: VerificationTicket; readonly userId: string } | { readonly ticket: VerificationTicket; readonly taken: true } | undefined>;
}

const displayName = (user: { username: string; name: string | null }) => (user.name !== null && user.name !== '' ? user.name : user.username);

/** Verification links for email addresses: sent on creation, on request and on resend; one click confirms. */
export function createEmailVerification<L extends string>(deps: EmailVerificationDeps<L>): EmailVerification<L> {
  const report = (event: VerificationEvent) => {
    try {
      deps.onEvent?.(event);
    } catch {
      // Auditing must not change the answer.
    }
  };

  return {
    available: deps.mail !== undefined,
    async send(userId, locale, returnTo = null, by = 'self') {
      const user = await deps.accounts.findById(userId);
      if (user === undefined || user.disabled) return 'unknown_user';
      if (user.email === null) return 'no_email';
      if (user.emailVerified) return 'already_verified';
      if (deps.mail === undefined) return 'no_mail';
      const token = await deps.verifications.issue({ kind: 'address', userId, email: user.email, returnTo });
      // Deleted since it was read: no mail, and the answer a user who never existed gets.
      if (token === undefined) return 'unknown_user';
      await deps.mail.send('email_verification', user.email, locale, {
        name: displayName(user),
        link: `${deps.linkBase}/${token}`,
        hours: String(Math.max(1, Math.round((await deps.ttlSeconds()) / 3600))),
        byOperator: by === 'operator',
      });
      report({ type: 'user.email_verification_sent', userId });
      return 'sent';
    },
    async requestChange(userId, email, locale) {
      const user = await deps.accounts.findById(userId);
      if (user === undefined || user.disabled) return 'unknown_user';
      if (deps.mail === undefined) return 'no_mail';
      const token = await deps.verifications.issue({ kind: 'change', userId, email, returnTo: null });
      if (token === undefined) return 'unknown_user';
      await deps.mail.send('email_verification', email, locale, {
        name: displayName(user),
        link: `${deps.linkBase}/${token}`,
        hours: String(Math.max(1, Math.round((await deps.ttlSeconds()) / 3600))),
        byOperator: false,
      });
      report({ type: 'user.email_verification_sent', userId });
      return 'sent';
    },
    check: (token) => deps.verifications.check(token),
    async confirm(token) {
      const ticket = await deps.verifications.consume(token);
      if (ticket === undefined) return undefined;
      if (ticket.kind === 'registration') {
        const user = await deps.completeRegistration?.(ticket.email, ticket.pending);
        if (user === undefined) return undefined;
        report({ type: 'user.email_verified', userId: user.id });
        return { ticket, userId: user.id };
      }
      if (ticket.kind === 'change') {
        const change = (await deps.changeEmail?.(ticket.userId, ticket.email)) ?? { kind: 'gone' };
        if (change.kind === 'gone') return undefined;
        if (change.kind === 'taken') {
          report({ type: 'user.email_change_taken', userId: ticket.userId });
          return { ticket, taken: true };
        }
        const notified = change.previousEmail === null || deps.emailChanged === undefined ? false : await deps.emailChanged(change.user, change.previousEmail).catch(() => false);
        report({ type: 'user.email_changed', userId: ticket.userId, previousEmailNotified: notified });
        return { ticket, userId: ticket.userId };
      }
      if (!(await deps.accounts.verifyEmail(ticket.userId, ticket.email))) return undefined;
      report({ type: 'user.email_verified', userId: ticket.userId });
      return { ticket, userId: ticket.userId };
    },
  };
}
