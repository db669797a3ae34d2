import type { Accounts } from './accounts.ts';
import type { ChangedBy } from './email-change-notice.ts';
import type { EmailVerifications, PendingAccount, VerificationTicket } from './email-verifications.ts';

/** The one mail this service sends (src/mail/mail-service.ts provides it). */
export interface VerificationMailer<L extends string> {
  send(kind: 'email_verification', to: string, locale: L, model: Readonly<Record<string, unknown>>): Promise<void>;
}

export type VerificationEvent =
  | { readonly type: 'user.email_verification_sent'; readonly userId: string }
  | { readonly type: 'user.email_verified'; readonly userId: string };

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
  /** Whether the link works (shows the confirmation button); consumes nothing. */
  check(token: string): Promise<VerificationTicket | undefined>;
  /**
   * Uses the link: the address is verified if it is still the user's, or a registration's account
   * is created with it. Resolves to the user, or undefined when the link or the address no longer works.
   */
  confirm(token: string): Promise<{ readonly ticket: VerificationTicket; readonly userId: string } | undefined>;
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
      await deps.mail.send('email_verification', user.email, locale, {
        name: displayName(user),
        link: `${deps.linkBase}/${token}`,
        hours: String(Math.max(1, Math.round((await deps.ttlSeconds()) / 3600))),
        byOperator: by === 'operator',
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
      if (!(await deps.accounts.verifyEmail(ticket.userId, ticket.email))) return undefined;
      report({ type: 'user.email_verified', userId: ticket.userId });
      return { ticket, userId: ticket.userId };
    },
  };
}
