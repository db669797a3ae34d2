import { z } from 'zod';
import { says } from '../errors/problems.ts';
import { matching } from '../errors/zod-checks.ts';
import type { Accounts } from '../accounts/accounts.ts';
import type { AuditEvent, AuditTrail } from '../observability/audit-trail.ts';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../observability/audit-types.ts';

const EVENT_TYPES = Object.keys(AUDIT_EVENT_TYPES) as [AuditEventType, ...AuditEventType[]];

export const auditQuerySchema = z
  .object({
    type: z
      .string()
      .refine((value): value is AuditEventType => Object.hasOwn(AUDIT_EVENT_TYPES, value), says('event_type'))
      .meta({ enum: EVENT_TYPES })
      .optional(),
    user: z.string().min(1).max(256).optional().describe('a user id or username: events by or about the user'),
    client: z.string().min(1).max(256).optional().describe('a client id: events of or about the client'),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    before: matching(z.string(), /^[0-9a-f]{24}$/, 'event_id').optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export const signInStatsSchema = z
  .object({ days: z.coerce.number().int().min(1).max(31).default(7).describe('how many days, today (UTC) included') })
  .strict();

const DAY_MS = 86_400_000;

export function showAuditEvent(event: AuditEvent) {
  return { ...event, at: event.at.toISOString() };
}

/** The audit trail as operators read it: newest first, one page at a time (keyset by id); "today" is the day of `now` (Gatehouse's clock, which dates the events). */
export function auditOperations(audit: AuditTrail, accounts: Pick<Accounts, 'findById' | 'findByLogin'>, now: () => Date) {
  return {
    async query(input: unknown) {
      const q = auditQuerySchema.parse(input);
      // A username or email finds the user's id too, so events recorded with the id alone match.
      let users: string[] | undefined;
      if (q.user !== undefined) {
        const user = (await accounts.findById(q.user)) ?? (await accounts.findByLogin(q.user));
        users = [...new Set([q.user, ...(user === undefined ? [] : [user.id, user.username])])];
      }
      const date = (value: string | undefined) => (value === undefined ? undefined : new Date(value));
      const page = await audit.query({
        types: q.type === undefined ? undefined : [q.type],
        users,
        clientId: q.client,
        from: date(q.from),
        to: date(q.to),
        before: q.before,
        limit: q.limit,
      });
      return { events: page.events.map(showAuditEvent), next: page.next };
    },

    /** Sign-ins, failures and lockouts per UTC day, oldest day first (from the audit events). */
    async signInsByDay(input: unknown) {
      const { days } = signInStatsSchema.parse(input);
      const at = now();
      const today = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
      const count = (type: AuditEventType, from: number) => audit.count({ types: [type], from: new Date(from), to: new Date(from + DAY_MS - 1) });
      return {
        days: await Promise.all(
          Array.from({ length: days }, async (_, i) => {
            const from = today - (days - 1 - i) * DAY_MS;
            const [success, failure, lockout] = await Promise.all([count('signin.success', from), count('signin.failure', from), count('signin.lockout', from)]);
            return { date: new Date(from).toISOString().slice(0, 10), success, failure, lockout };
          }),
        ),
      };
    },
  };
}
