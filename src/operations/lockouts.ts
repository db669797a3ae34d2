import { isIP } from 'node:net';
import { z } from 'zod';
import { ipKey } from '../accounts/ip-key.ts';
import { says } from '../errors/problems.ts';
import type { Lockout } from '../accounts/login-limiter-types.ts';
import type { GatehouseServices } from '../services.ts';
import type { OperationContext } from './context.ts';
import { invalid } from './errors.ts';

const LOGIN_SUBJECT = 'login:';

/**
 * The key a sign-in from `value` is charged to (src/accounts/ip-key.ts: an IPv4 address, or an
 * IPv6 address's /64), or the key of a /64 block written as the lockout list shows it
 * (`2001:db8:1:2::/64`, any case or spelling of the prefix); undefined for anything else.
 */
export function lockoutAddress(value: string): string | undefined {
  if (isIP(value) !== 0) return ipKey(value);
  const block = /^([0-9a-f:]+)\/64$/i.exec(value)?.[1];
  if (block === undefined || isIP(block) !== 6) return undefined;
  const key = ipKey(block);
  return key.endsWith('/64') ? key : undefined;
}

export const lockoutClearSchema = z
  .object({
    subject: z.string().min(1).max(320).optional().describe('a user id, or login:<login> for a login that matches no user (as the list shows it)'),
    ip: z
      .string()
      .min(1)
      .max(64)
      .refine((value) => lockoutAddress(value) !== undefined, says('ip_address'))
      .optional()
      .describe('an address locked as a whole (scope ip): IPv4, IPv6 (its /64 is what is locked), or the /64 block as the list shows it'),
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
      const ip = input.ip === undefined ? undefined : lockoutAddress(input.ip)!;
      const lifted = await accounts.liftLockout(ip === undefined ? { subject: input.subject! } : { ip });
      const userId = input.subject !== undefined && !input.subject.startsWith(LOGIN_SUBJECT) ? input.subject : undefined;
      await audit.write({
        ...ctx,
        type: 'lockout.cleared',
        ...(userId === undefined ? {} : { target: { type: 'user', id: userId } }),
        details: { ...(input.subject === undefined ? { ip } : { subject: input.subject }), lifted },
      });
      return lifted;
    },
  };
}
