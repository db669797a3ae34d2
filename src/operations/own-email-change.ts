import { addressKey } from '../accounts/normalize.ts';
import { GatehouseError } from '../errors/gatehouse-error.ts';
import { problemText } from '../errors/problems.ts';
import type { AttemptLimiter } from '../limits/attempt-limits.ts';
import type { AuditTrail } from '../observability/audit-trail.ts';
import { selfContext, selfTarget, type Self } from './self.ts';

export interface OwnEmailChangeDeps {
  readonly audit: Pick<AuditTrail, 'write'>;
  /**
   * Attempts to change the email address, per user (a few an hour, src/composition/self-service.ts): an address another
   * account uses is refused by name (409), so unlimited attempts would tell which addresses have
   * accounts — what registration and password reset never tell. Absent: not limited.
   */
  readonly emailChanges?: AttemptLimiter | undefined;
}

/**
 * A user's own change of email address, before it is made: each attempt that names another
 * address counts, and over the limit it is refused (429, audited). The change itself is the
 * operators' update (users.ts): the link to the new address and the notice to the old one.
 */
export function ownEmailChange({ audit, emailChanges }: OwnEmailChangeDeps) {
  return async function countEmailChange(self: Self, email: string | null): Promise<void> {
    if (emailChanges === undefined || addressKey(email) === addressKey(self.user.email)) return;
    const wait = await emailChanges.retryAfter(self.user.id);
    if (wait > 0) {
      await audit.write({ ...selfContext(self), type: 'user.email_change_limited', target: selfTarget(self), details: { retryAfterSeconds: wait } });
      throw new GatehouseError(problemText('email_changes_limited'), { status: 429, code: 'too_many_requests', expose: true, problem: { code: 'email_changes_limited' }, retryAfterSeconds: wait });
    }
    await emailChanges.fail(self.user.id);
  };
}
