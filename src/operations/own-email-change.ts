import { DuplicateUserError } from '../accounts/errors.ts';
import { addressKey, validEmail } from '../accounts/normalize.ts';
import { GatehouseError } from '../errors/gatehouse-error.ts';
import { problemText } from '../errors/problems.ts';
import type { AttemptLimiter } from '../limits/attempt-limits.ts';
import type { AuditTrail } from '../observability/audit-trail.ts';
import type { GatehouseServices } from '../services.ts';
import { selfContext, selfTarget, type Self } from './self.ts';

/**
 * A user's own address changes waiting for their confirmation (src/composition/account-mail.ts):
 * the new address is kept beside the account, with a link mailed to it, until the link is followed.
 */
export interface PendingEmailChanges {
  /** Replaces any pending change with this one and mails its link to the new address (in the user's language). */
  request(userId: string, email: string): Promise<'sent' | 'no_email' | 'already_verified' | 'no_mail' | 'unknown_user'>;
  pending(userId: string): Promise<{ readonly email: string; readonly expiresAt: Date } | undefined>;
  cancel(userId: string): Promise<boolean>;
}

export interface OwnEmailChangeDeps {
  readonly audit: Pick<AuditTrail, 'write'>;
  readonly accounts: Pick<GatehouseServices['accounts'], 'findByLogin'>;
  /**
   * Attempts to change the email address, per user (a few an hour, src/composition/self-service.ts): an address another
   * account uses is refused by name (409), so unlimited attempts would tell which addresses have
   * accounts — what registration and password reset never tell. Absent: not limited.
   */
  readonly emailChanges?: AttemptLimiter | undefined;
  /**
   * "Send the link again", per user (a few an hour, src/composition/self-service.ts): each one is a
   * mail to the address the user chose, so unlimited they would make Gatehouse mail-bomb it.
   * Absent: not limited.
   */
  readonly resends?: AttemptLimiter | undefined;
  /** Pending changes (mail configured); absent: an own change takes effect at once, unconfirmed, as an operator's does. */
  readonly pendingChanges?: PendingEmailChanges | undefined;
}

/**
 * A user's own change of email address. Each attempt that names another address counts, and over
 * the limit it is refused (429, audited). With mail, the change waits for the link mailed to the
 * new address (Keycloak's UPDATE_EMAIL with verification): until it is followed the account keeps
 * its address — for signing in, password reset and the `email` claim — and the new one is only
 * pending; following it makes the change (src/accounts/email-verification.ts). Without mail it is
 * the operators' update (users.ts), made at once.
 */
export function ownEmailChange({ audit, accounts, emailChanges, resends, pendingChanges }: OwnEmailChangeDeps) {
  async function countEmailChange(self: Self, email: string | null): Promise<void> {
    if (emailChanges === undefined || addressKey(email) === addressKey(self.user.email)) return;
    const wait = await emailChanges.retryAfter(self.user.id);
    if (wait > 0) {
      await audit.write({ ...selfContext(self), type: 'user.email_change_limited', target: selfTarget(self), details: { retryAfterSeconds: wait } });
      throw new GatehouseError(problemText('email_changes_limited'), { status: 429, code: 'too_many_requests', expose: true, problem: { code: 'email_changes_limited' }, retryAfterSeconds: wait });
    }
    await emailChanges.fail(self.user.id);
  }

  return {
    countEmailChange,
    /** Whether a change to `email` waits for confirmation (rather than being the operators' update). */
    pendsUntilConfirmed: (self: Self, email: string | null | undefined): email is string =>
      pendingChanges !== undefined && typeof email === 'string' && addressKey(email) !== null && addressKey(email) !== addressKey(self.user.email),

    /**
     * Before anything else of the profile is saved: counted, a well-formed address, not another
     * account's (409 by name, as an operator's change is refused: hence the limit).
     */
    async check(self: Self, email: string): Promise<string> {
      await countEmailChange(self, email);
      const address = validEmail(email);
      const holder = await accounts.findByLogin(address);
      if (holder !== undefined && holder.id !== self.user.id && addressKey(holder.email) === addressKey(address)) throw new DuplicateUserError('email');
      return address;
    },

    /** The new address becomes pending (a newer request replaces an older one) and gets its link; audited. */
    async request(self: Self, address: string): Promise<void> {
      await pendingChanges!.request(self.user.id, address);
      await audit.write({ ...selfContext(self), type: 'user.email_change_requested', target: selfTarget(self) });
    },

    pendingEmail: async (self: Self): Promise<string | null> => (pendingChanges === undefined ? null : ((await pendingChanges.pending(self.user.id))?.email ?? null)),

    /**
     * The account page's "Send the link again": a new link to the pending address. Not counted as a
     * change: it names no new address (nothing to probe), only the one the user already chose. Over
     * its own limit it is refused (429 email_resends_limited, audited; the page says it in words).
     */
    async resend(self: Self): Promise<boolean> {
      const pending = await pendingChanges?.pending(self.user.id);
      if (pending === undefined) return false;
      const wait = resends === undefined ? 0 : await resends.reserve(self.user.id);
      if (wait > 0) {
        await audit.write({ ...selfContext(self), type: 'user.email_change_limited', target: selfTarget(self), details: { resend: true, retryAfterSeconds: wait } });
        throw new GatehouseError(problemText('email_resends_limited'), { status: 429, code: 'too_many_requests', expose: true, problem: { code: 'email_resends_limited' }, retryAfterSeconds: wait });
      }
      await pendingChanges!.request(self.user.id, pending.email);
      return true;
    },

    /** The account page's "Cancel": the pending address is forgotten and its link stops working; audited. */
    async cancel(self: Self): Promise<boolean> {
      if (pendingChanges === undefined || !(await pendingChanges.cancel(self.user.id))) return false;
      await audit.write({ ...selfContext(self), type: 'user.email_change_cancelled', target: selfTarget(self) });
      return true;
    },
  };
}
