import { z } from 'zod';
import type { Lockout } from '../accounts/login-limiter-types.ts';
import type { GatehouseServices } from '../services.ts';
import type { OperationContext } from './context.ts';
import { invalid } from './errors.ts';

const LOGIN_SUBJECT = 'login:';

export const lockoutClearSchema = z
  .object({
    subject: z.string().min(1).max(320).optional().describe('a user id, or login:<login> for a login that matches no user (as the list shows it)'),
    ip: z.string().min(1).max(64).optional().describe('an address locked as a whole (scope ip)'),
  })
  .strict()
  .meta({ description: 'Exactly one of subject and ip' });

/** GET /lockouts: a page of the newest; the total goes in X-Total-Count. */
export const lockoutListSchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

/** How many lockouts a clear lifted (POST /lockouts/clear). */
export function showLifted(lifted: number) {
  return { lifted };
}

/** A lockout as operators read it: who (user id and username, or the login tried) or which address, until when. */
function show(lockout: Lockout, usernames: ReadonlyMap<string, string>) {
  const login = lockout.subject?.startsWith(LOGIN_SUBJECT) === true ? lockout.subject.slice(LOGIN_SUBJECT.length) : null;
  const userId = lockout.subject !== null && login === null ? lockout.subject : null;
  return {
    scope: lockout.scope,
    subject: lockout.subject,
    user_id: userId,
    username: userId === null ? null : (usernames.get(userId) ?? null),
    login,
    ip: lockout.ip,
    level: lockout.level,
    locked_at: lockout.lockedAt.toISOString(),
    locked_until: lockout.lockedUntil.toISOString(),
  };
}

/** Sign-in lockouts in force: listed for operators and lifted one at a time (audited). */
export function lockoutOperations(services: Pick<GatehouseServices, 'accounts' | 'audit'>) {
  const { accounts, audit } = services;
  return {
    /** The newest `limit` lockouts in force (anyone failing sign-ins makes them, so never all), and how many there are. */
    async list(query: unknown) {
      const { limit } = lockoutListSchema.parse(query);
      const [lockouts, total] = await Promise.all([accounts.listLockouts(limit), accounts.countLockouts()]);
      const ids = [...new Set(lockouts.map((lockout) => lockout.subject).filter((subject): subject is string => subject !== null && !subject.startsWith(LOGIN_SUBJECT)))];
      const usernames = new Map<string, string>();
      await Promise.all(
        ids.map(async (id) => {
          const user = await accounts.findById(id);
          if (user !== undefined) usernames.set(id, user.username);
        }),
      );
      return { items: lockouts.map((lockout) => show(lockout, usernames)), total };
    },
    async clear(ctx: OperationContext, body: unknown): Promise<number> {
      const input = lockoutClearSchema.parse(body);
      if ((input.subject === undefined) === (input.ip === undefined)) throw invalid('subject', 'subject_or_ip');
      const lifted = await accounts.liftLockout(input.subject !== undefined ? { subject: input.subject } : { ip: input.ip! });
      const userId = input.subject !== undefined && !input.subject.startsWith(LOGIN_SUBJECT) ? input.subject : undefined;
      await audit.write({
        ...ctx,
        type: 'lockout.cleared',
        ...(userId === undefined ? {} : { target: { type: 'user', id: userId } }),
        details: { ...(input.subject === undefined ? { ip: input.ip } : { subject: input.subject }), lifted },
      });
      return lifted;
    },
  };
}
